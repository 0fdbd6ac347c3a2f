"""Training and inference of several masks on one shared weight set (Routing the Lottery).

`RoutedNet` holds one network (the shared tensors theta) and K masks; `forward(x, k)`
runs x through m_k * theta, and `predict(x, context)` routes each input by its context
(the subset id), as the method does at inference: there is no learned router.

`train_routed` takes steps on batches that each belong to one subset k: the loss is that
of m_k * theta, so the gradient reaching theta is the masked gradient, and the update is
applied inside m_k only: weights outside m_k keep their value, and so does their
optimizer state (momentum, Adam's moments), whatever the optimizer. Adam's step count,
one per tensor, is shared. What is not masked is shared by all subsets: biases and
BatchNorm's affine parameters. BatchNorm running statistics are kept per subset, since
each mask sees its own activations; `predict` uses subset k's.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import functional_call

from ..progress import Progress
from ..sparse import Mask
from .optim import build_optimizer
from .schedule import lr_factor

BatchFn = Callable[[int], tuple[int, torch.Tensor, torch.Tensor]]  # step -> (subset, x, y)


class RoutedNet:
    def __init__(self, model: torch.nn.Module, masks: list[Mask], buffers: list[dict] | None = None):
        self.model = model
        device = next(model.parameters()).device
        self.masks = [m.to(device) for m in masks]
        self.names = list(masks[0])
        self._float = [{n: m[n].to(torch.float32) for n in self.names} for m in self.masks]
        own = {n: b for n, b in model.named_buffers()}
        # Floating buffers (BatchNorm statistics) per subset; counters stay shared.
        self.buffers = buffers or [{n: b.detach().clone() for n, b in own.items() if b.is_floating_point()}
                                   for _ in masks]

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
                 description: str = "", loss_fn: Callable = F.cross_entropy) -> float:
    """`steps` masked steps of the shared weights with the optimizer and schedule of `spec`
    (anything with optimizer, lr, momentum, nesterov, weight_decay, schedule and gamma);
    returns the mean training loss."""
    model = net.model
    model.train()
    optimizer = build_optimizer(spec.optimizer, model.parameters(), lr=spec.lr, momentum=spec.momentum,
                                nesterov=spec.nesterov, weight_decay=spec.weight_decay)
    base = [g["lr"] for g in optimizer.param_groups]
    to_steps = getattr(spec, "steps", None)  # a TrainSpec's milestones and warm-up are durations
    milestones = [to_steps(m) for m in getattr(spec, "milestones", ())] if to_steps else []
    warmup = to_steps(spec.warmup) if to_steps and getattr(spec, "warmup", "") else 0
    factor = lr_factor(spec.schedule, total_steps=max(steps, 1), milestones=milestones, gamma=spec.gamma,
                       warmup_steps=warmup)
    weights = dict(model.named_parameters())
    masked = [weights[n] for n in net.names]
    total = torch.zeros((), device=masked[0].device)
    if progress is not None:
        progress.start(description, steps, 0)
    for step in range(steps):
        k, x, y = batches(step)
        for group, lr in zip(optimizer.param_groups, base):
            group["lr"] = lr * factor(step)
        loss = loss_fn(net.forward(x, k), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        before = [p.detach().clone() for p in masked]
        state_before = [{key: v.clone() for key, v in optimizer.state.get(p, {}).items()
                         if torch.is_tensor(v) and v.shape == p.shape} for p in masked]
        optimizer.step()
        with torch.no_grad():  # the update, and the optimizer state's, land inside m_k only
            for p, old, old_state, name in zip(masked, before, state_before, net.names):
                keep = net.masks[k][name]
                p.copy_(torch.where(keep, p, old))
                for key, value in optimizer.state.get(p, {}).items():
                    if torch.is_tensor(value) and value.shape == p.shape:
                        value.copy_(torch.where(keep, value, old_state.get(key, torch.zeros_like(value))))
        total += loss.detach()
        if progress is not None and (step + 1) % 100 == 0:
            progress.advance(step + 1)
    if progress is not None:
        progress.stop()
    return float(total) / max(steps, 1)


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
