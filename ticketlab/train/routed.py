"""Training and inference of several masks on one shared weight set (Routing the Lottery).

`RoutedNet` holds one network (the shared tensors theta) and K masks; `forward(x, k)`
runs x through m_k * theta, and `predict(x, context)` routes each input by its context
(the subset id), as the method does at inference: there is no learned router.

`train_routed` takes steps on batches that each belong to one subset k: the loss is that
of m_k * theta, so the gradient reaching theta is the masked gradient, and the update is
applied inside m_k only: weights outside m_k keep their value, and so does their
optimizer state (momentum, Adam's moments), whatever the optimizer. Adam's step count,
one per tensor, is shared. What is not masked is shared by all subsets: biases and
BatchNorm's affine parameters. BatchNorm running statistics are shared too, as the paper
describes one network; with `subset_buffers`, each subset keeps its own (each mask sees
its own activations), which is extra capacity, and `predict` uses subset k's.
"""
from __future__ import annotations

from collections.abc import Callable

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap

from ..core.progress import Progress
from ..sparse import Mask
from .optim import clip_grads, clip_member_grads, spec_optimizer
from .rng import rng_state, set_rng_state
from .schedule import lr_factor
from .task import Task, classification

BatchFn = Callable[[int], tuple[int, torch.Tensor, torch.Tensor]]  # step -> (subset, x, y)


class RoutedNet:
    def __init__(self, model: torch.nn.Module, masks: list[Mask], buffers: list[dict] | None = None,
                 subset_buffers: bool = False):
        self.model = model
        device = next(model.parameters()).device
        self.masks = [m.to(device) for m in masks]
        self.names = list(masks[0])
        self._float = [{n: m[n].to(torch.float32) for n in self.names} for m in self.masks]
        own = {n: b for n, b in model.named_buffers()}
        # Floating buffers (BatchNorm statistics): one dict per subset, or one dict that every
        # subset's entry refers to (forward updates it in place); counters stay shared.
        fresh = lambda: {n: b.detach().clone() for n, b in own.items() if b.is_floating_point()}  # noqa: E731
        if buffers is None:
            shared = fresh()
            buffers = [fresh() for _ in masks] if subset_buffers else [shared] * len(masks)
        self.buffers = buffers

    def extra_statistics(self) -> int:
        """The floats of per-subset statistics beyond one shared set (0 when shared)."""
        distinct = {id(b): b for b in self.buffers}
        return sum(t.numel() for b in list(distinct.values())[1:] for t in b.values())

    def __len__(self) -> int:
        return len(self.masks)

    def params(self, k: int) -> dict[str, torch.Tensor]:
        weights = dict(self.model.named_parameters())
        return {n: weights[n] * self._float[k][n] for n in self.names}

    def forward(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return functional_call(self.model, {**self.params(k), **self.buffers[k]}, (x,))

    def buffer_tensors(self) -> dict[str, torch.Tensor]:
        """Per-subset buffers as one flat dict ('k/name'), for saving."""
        return {f"{k}/{n}": b for k, bufs in enumerate(self.buffers) for n, b in bufs.items()}

    @torch.no_grad()
    def predict(self, x: torch.Tensor, context: int | torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Logits of each input through the mask of its context (an int for all, or one id each)."""
        was_training = self.model.training
        self.model.eval()
        try:
            if isinstance(context, int):
                return torch.cat([self.forward(x[i:i + batch_size], context) for i in range(0, len(x), batch_size)])
            context = torch.as_tensor(context, device=x.device)
            out = None
            for k in context.unique().tolist():
                rows = (context == k).nonzero().flatten()
                logits = self.predict(x[rows], int(k), batch_size)
                if out is None:
                    out = torch.zeros(len(x), logits.shape[1], device=x.device)
                out[rows] = logits
            return out
        finally:
            self.model.train(was_training)

    def union(self) -> Mask:
        out = self.masks[0]
        for m in self.masks[1:]:
            out = out | m
        return out


def train_routed(net: RoutedNet, batches: BatchFn, steps: int, spec, *, progress: Progress | None = None,
                 description: str = "", loss_fn: Callable | None = None, generators=(),
                 checkpoint_every: int = 0, on_checkpoint: Callable[[dict], None] | None = None,
                 resume: dict | None = None) -> float:
    """`steps` masked steps of the shared weights with the optimizer and schedule of `spec`
    (anything with optimizer, lr, momentum, nesterov, weight_decay, schedule and gamma;
    decay_on, clip_grad and label_smoothing where it has them); returns the mean training
    loss.

    Every `checkpoint_every` steps `on_checkpoint(state)` receives the whole training state:
    weights, statistics, optimizer, the loss so far, the global RNG and the state of the
    `generators` that `batches` draws from. Given back as `resume`, it continues where it
    stopped and ends bit-identical to an uninterrupted run. `loss_fn(outputs, y)` is the
    mean loss of a batch; None: the classification task's cross-entropy, with the spec's
    label smoothing."""
    loss_fn = loss_fn or classification(getattr(spec, "label_smoothing", 0.0)).training_loss
    model = net.model
    model.train()
    optimizer = spec_optimizer(spec, model.named_parameters(), getattr(model, "prunable_names", None))
    clip = getattr(spec, "clip_grad", 0.0)
    base = [g["lr"] for g in optimizer.param_groups]
    factor = _schedule(spec, steps)
    weights = dict(model.named_parameters())
    masked = [weights[n] for n in net.names]
    total = torch.zeros((), device=masked[0].device)
    start = 0 if resume is None else _restore(resume, net, optimizer, generators, total)
    if progress is not None:
        progress.start(description, steps, start)
    for step in range(start, steps):
        k, x, y = batches(step)
        for group, lr in zip(optimizer.param_groups, base):
            group["lr"] = lr * factor(step)
        loss = loss_fn(net.forward(x, k), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # through m_k * theta: the gradients are masked already
        clip_grads(model.parameters(), clip)
        _masked_step(optimizer, masked, [net.masks[k][n] for n in net.names])
        total += loss.detach()
        if progress is not None and (step + 1) % 100 == 0:
            progress.advance(step + 1)
        if on_checkpoint is not None and checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            on_checkpoint(_state(step + 1, net, optimizer, generators, total))
    if progress is not None:
        progress.stop()
    return float(total) / max(steps, 1)


def _state(step: int, net: RoutedNet, optimizer, generators, total: torch.Tensor) -> dict:
    # Shared statistics are one dict in every subset's place: saving the list keeps that.
    return {"step": step, "model": net.model.state_dict(), "optimizer": optimizer.state_dict(),
            "buffers": net.buffers, "loss_sum": total.clone(), "rng": rng_state(),
            "generators": [g.get_state() for g in generators]}


def _restore(state: dict, net: RoutedNet, optimizer, generators, total: torch.Tensor) -> int:
    net.model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    with torch.no_grad():
        for mine, saved in zip(net.buffers, state["buffers"]):
            for name, value in saved.items():
                mine[name].copy_(value)
        total.copy_(state["loss_sum"])
    set_rng_state(state["rng"])
    for g, saved in zip(generators, state["generators"]):
        g.set_state(saved)
    return int(state["step"])


def _schedule(spec, steps: int) -> Callable[[int], float]:
    to_steps = getattr(spec, "steps", None)  # a TrainSpec's milestones and warm-up are durations
    milestones = [to_steps(m) for m in getattr(spec, "milestones", ())] if to_steps else []
    warmup = to_steps(spec.warmup) if to_steps and getattr(spec, "warmup", "") else 0
    return lr_factor(spec.schedule, total_steps=max(steps, 1), milestones=milestones, gamma=spec.gamma,
                     warmup_steps=warmup)


def _masked_step(optimizer, masked: list[torch.Tensor], keeps: list[torch.Tensor]) -> None:
    """`optimizer.step()` whose update, and the optimizer state's, land inside the masks only."""
    before = [p.detach().clone() for p in masked]
    state_before = [{key: v.clone() for key, v in optimizer.state.get(p, {}).items()
                     if torch.is_tensor(v) and v.shape == p.shape} for p in masked]
    optimizer.step()
    with torch.no_grad():
        for p, old, old_state, keep in zip(masked, before, state_before, keeps):
            p.copy_(torch.where(keep, p, old))
            for key, value in optimizer.state.get(p, {}).items():
                if torch.is_tensor(value) and value.shape == p.shape:
                    value.copy_(torch.where(keep, value, old_state.get(key, torch.zeros_like(value))))


def train_routed_stacked(nets: list[RoutedNet], batches: list[BatchFn], steps: int, spec,
                         task: Task | None = None) -> list[float]:
    """`train_routed` for M one-mask networks of one architecture, each with its own
    weights, mask, batches and BatchNorm statistics, as one stacked computation
    (`torch.func.stack_module_state` + `vmap`; RTL's extraction rounds and its
    independent-models baseline). Each member ends where `train_routed` would take it
    alone, to float tolerance; returns each member's mean training loss. `task` gives the
    loss (None: classification's cross-entropy)."""
    task = task or classification(getattr(spec, "label_smoothing", 0.0))
    models = [n.model for n in nets]
    for model in models:
        model.train()
    params, model_buffers = stack_module_state(models)
    # Float buffers from each net's subset-0 statistics (what its forward uses); counters as they are.
    buffers = {name: (torch.stack([n.buffers[0][name] for n in nets]) if name in nets[0].buffers[0] else b)
               for name, b in model_buffers.items()}
    base_model = copy.deepcopy(models[0]).to("meta")
    names = nets[0].names
    keeps = {n: torch.stack([net.masks[0][n] for net in nets]) for n in names}
    floats = {n: k.to(params[n].dtype) for n, k in keeps.items()}
    order = list(params)
    optimizer = spec_optimizer(spec, [(n, params[n]) for n in order], getattr(models[0], "prunable_names", None))
    clip = getattr(spec, "clip_grad", 0.0)
    base = [g["lr"] for g in optimizer.param_groups]
    factor = _schedule(spec, steps)

    def forward(p, m, b, x):
        return functional_call(base_model, ({**p, **{n: p[n] * m[n] for n in m}}, b), (x,))

    totals = torch.zeros(len(nets), device=params[order[0]].device)
    for step in range(steps):
        drawn = [fn(step) for fn in batches]
        xs, ys = torch.stack([x for _, x, _ in drawn]), torch.stack([y for _, _, y in drawn])
        for group, lr in zip(optimizer.param_groups, base):
            group["lr"] = lr * factor(step)
        logits = vmap(forward)(params, floats, buffers, xs)
        losses = task.member_losses(logits, ys)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # the sum: each member's gradient is exactly its own
        clip_member_grads([params[n] for n in order], clip)  # each member by its own norm
        _masked_step(optimizer, [params[n] for n in names], [keeps[n] for n in names])
        totals += losses.detach()
    with torch.no_grad():  # each member's weights and statistics back into its own network
        for i, net in enumerate(nets):
            for name, p in net.model.named_parameters():
                p.copy_(params[name][i])
            for name in net.buffers[0]:
                net.buffers[0][name].copy_(buffers[name][i])
    return [float(t) / max(steps, 1) for t in totals]


def one_vs_rest(predicted: torch.Tensor, truth: torch.Tensor) -> dict:
    """Balanced accuracy, precision and recall of boolean predictions of one subset."""
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    tn = int((~predicted & ~truth).sum())
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    return {"balanced_accuracy": (recall + specificity) / 2, "precision": precision, "recall": recall}
