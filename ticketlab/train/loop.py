"""The one training loop.

Everything a step does is visible here: take a batch from the device-resident loader,
forward under autocast, backward, mask the gradients, clip them (`clip_grad`), step, mask
the weights. The learning rate is a pure function of the step, the data order a pure
function of (seed, epoch), so `state_dict()` at any step is enough to resume
bit-identically.

In a multi-process (DDP) job (`train.ddp`) each rank trains on its slice of every
global batch through a DDP wrapper of the same model; masks, running loss and evaluation
records are made identical on all ranks, so every rank holds the state of the one run.
"""
from __future__ import annotations

import copy

from collections.abc import Callable

import torch

from ..data import DatasetSplits, DeviceLoader
from ..core.progress import Progress
from . import ddp
from ..sparse import Mask, MaskEnforcer
from .device import autocast, memory_format
from .duration import to_steps
from .evaluate import evaluate
from .optim import clip_grads, spec_optimizer
from .rng import rng_state, set_rng_state
from .schedule import lr_factor
from .task import task_for

Callback = Callable[[dict], None]


class Trainer:
    def __init__(self, spec, model: torch.nn.Module, data: DatasetSplits, device: torch.device,
                 mask: Mask | None = None):
        self.spec, self.data, self.device = spec, data, device
        # Joined (or not) before any Trainer is built (`api.run`): asked once, not every step.
        self.in_ddp_job = ddp.active()
        if self.in_ddp_job:
            ddp.check_batch_size(spec.batch_size)
        info = data.info
        self.task = task_for(spec, info)  # the loss trained on and the metrics reported
        augment = info.augment if spec.augment is None else spec.augment
        self.loader = DeviceLoader(data.train, spec.batch_size, seed=spec.order_seed, augment=augment,
                                   crop_padding=info.crop_padding, flip=info.flip, device=device)
        self.steps_per_epoch = self.loader.steps_per_epoch
        self.total_steps = self.steps(spec.duration)
        self.eval_every = self.steps(spec.eval_every)
        self.memory_format = memory_format(device, getattr(model, "is_conv", False))
        self.model = model.to(device=device, memory_format=self.memory_format)
        self._ddp: torch.nn.Module | None = None  # made at the first step of a DDP job (`ddp_model`)
        self.forward_model = self.model  # what a training step calls: the model, or it compiled (`compile`)
        self.optimizer = spec_optimizer(spec, self.model.named_parameters(), getattr(model, "prunable_names", None))
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        self.clip_grad = getattr(spec, "clip_grad", 0.0)
        self.lr_factor = lr_factor(spec.schedule, total_steps=self.total_steps,
                                   milestones=[self.steps(m) for m in spec.milestones], gamma=spec.gamma,
                                   warmup_steps=self.steps(spec.warmup))
        self.enforcer: MaskEnforcer | None = None
        self.mask: Mask | None = None
        # Hooks for methods that change the mask while training (dynamic sparse training):
        # on_backward(trainer) sees the dense gradients of the step being taken, after_step(trainer)
        # runs once the step is done (trainer.step counts the steps done).
        self.on_backward: Callable[["Trainer"], None] | None = None
        self.after_step: Callable[["Trainer"], None] | None = None
        self.step = 0
        self.history: list[dict] = []
        self._loss_sum = torch.zeros((), device=device)
        self._loss_count = 0
        if mask is not None:
            self.set_mask(mask)

    def steps(self, duration: str) -> int:
        return to_steps(duration, self.steps_per_epoch)

    # -- masks --------------------------------------------------------------------------
    def set_mask(self, mask: Mask | None) -> None:
        """Enforce `mask` from now on: masked weights and their optimizer state become zero."""
        if mask is not None:
            mask = ddp.broadcast_mask(mask)  # in a DDP job, rank 0's: one mask for all ranks
        self.mask = mask
        self.enforcer = MaskEnforcer(self.model, mask) if mask is not None else None
        if self.enforcer is not None:
            self.enforcer.install(self.optimizer)

    # -- state --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {"step": self.step, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "rng": rng_state(), "history": list(self.history),
                 "loss_sum": ddp.mean_over_ranks(self._loss_sum).detach().cpu(),
                 "loss_count": self._loss_count}
        if self.mask is not None:  # the mask may change during training (DST): it is part of the state
            state["mask"] = {n: t.cpu() for n, t in self.mask.items()}
        return state

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        # A copy: torch's load_state_dict keeps the given tensors as the optimizer's state and
        # updates them in place, which would corrupt a state reused for another start (IMP's
        # rewind point serves every level and control).
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        self.step = int(state["step"])
        self.history = list(state.get("history", []))
        self._loss_sum = state.get("loss_sum", torch.zeros(())).to(self.device)
        self._loss_count = int(state.get("loss_count", 0))
        set_rng_state(state["rng"])
        if "mask" in state:
            self.mask = Mask(state["mask"]).to(self.device)
            self.enforcer = MaskEnforcer(self.model, self.mask)
        if self.enforcer is not None:
            self.enforcer.apply_to_weights()

    def rewind_to(self, state: dict) -> None:
        """Start from a saved training state (weights, optimizer, step, RNG) with a fresh history."""
        self.load_state_dict(state)
        self.clear_history()

    def clear_history(self) -> None:
        """Forget evaluations and the running training loss (a new phase of training begins)."""
        self.history = []
        self._loss_sum.zero_()
        self._loss_count = 0

    def hold_final_lr(self) -> None:
        """Fine-tuning: every remaining step at the schedule's last learning rate."""
        final = self.lr_factor(self.total_steps - 1)
        self.lr_factor = lambda step: final

    # -- training -----------------------------------------------------------------------
    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        factor = self.lr_factor(self.step)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
        if x.dim() == 4:
            x = x.contiguous(memory_format=self.memory_format)
        with autocast(self.device):
            loss = self.loss(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.on_backward is not None:
            self.on_backward(self)
        if self.enforcer is not None:
            self.enforcer.apply_to_grads()
        # The masked gradients, clipped as a whole. Under DDP they are the ranks' mean by now,
        # the same on every rank, and so is the clipping; bf16 autocast needs no loss scaling,
        # so there is nothing to unscale first.
        if self.clip_grad:  # off by default: the step then does no more than before the setting
            clip_grads(self.model.parameters(), self.clip_grad)
        self.optimizer.step()
        if self.enforcer is not None:
            self.enforcer.apply_to_weights()
        self._loss_sum += loss.detach().float()
        self._loss_count += 1

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The mean loss of the batch; in a DDP job, this rank's share of it."""
        if not self.in_ddp_job:
            return self.task.training_loss(self.forward_model(x), y)
        # This rank's slice, summed and scaled by (ranks / global batch): DDP averages the
        # ranks' gradients, so the update is the global batch's mean-loss update, also for a
        # last batch that does not split evenly; and the mean over ranks of this loss is the
        # global mean loss (`evaluate_now`).
        logits = self.ddp_model()(ddp.shard(x))
        return self.task.training_loss(logits, ddp.shard(y), summed=True) * (ddp.world_size() / len(y))

    def compile(self, mode: str = "default") -> None:
        """Train through `torch.compile(model)` (inductor kernels; `reduce-overhead` adds CUDA
        graphs on a GPU). The compiled module shares the model's parameters, so masks,
        checkpoints and evaluation work on the plain model as before; results equal eager
        training to float tolerance. The first step pays the compilation."""
        self.forward_model = torch.compile(self.model, mode=None if mode == "default" else mode)

    def ddp_model(self) -> torch.nn.Module:
        """The DDP wrapper of `model`, made on first use: by then a method has loaded the
        weights and mask it starts from (DDP starts every rank from rank 0's weights)."""
        if self._ddp is None:
            self._ddp = ddp.wrap(self.model, self.device)
        return self._ddp

    def run(self, until: int | None = None, *, progress: Progress | None = None,
            checkpoint_every: int = 0, on_checkpoint: Callback | None = None,
            on_eval: Callback | None = None) -> None:
        """Train from the current step up to step `until` (default: the end of training)."""
        until = self.total_steps if until is None else min(until, self.total_steps)
        self.model.train()
        while self.step < until:
            epoch, start = divmod(self.step, self.steps_per_epoch)
            for x, y in self.loader.epoch(epoch, start_step=start):
                self.train_step(x, y)
                self.step += 1
                if self.after_step is not None:
                    self.after_step(self)
                if progress is not None:
                    progress.advance(self.step)
                if self.step % self.eval_every == 0 or self.step == self.total_steps:
                    record = self.evaluate_now()
                    if on_eval is not None:
                        on_eval(record)
                if on_checkpoint is not None and checkpoint_every and self.step % checkpoint_every == 0 \
                        and self.step < self.total_steps:
                    on_checkpoint(self.state_dict())
                if self.step >= until:
                    break

    def evaluate_now(self) -> dict:
        """Evaluate on test (and validation) data, append to the history and return the record.

        In a DDP job rank 0 evaluates and every rank appends its record, so that decisions
        taken on the history (the best validation weights) are the same on every rank."""
        record = {"step": self.step, "epoch": round(self.step / self.steps_per_epoch, 4),
                  "lr": self.optimizer.param_groups[0]["lr"],
                  "train_loss": ddp.mean_over_ranks(self._loss_sum).item() / max(self._loss_count, 1)}
        self._loss_sum.zero_()
        self._loss_count = 0
        record = ddp.from_rank0(lambda: self._scored(record))
        self.history.append(record)
        return record

    def _scored(self, record: dict) -> dict:
        record["test"] = self.evaluate("test")
        if self.data.val is not None:
            record["val"] = self.evaluate("val")
        return record

    def evaluate(self, split: str = "test") -> dict:
        arrays = getattr(self.data, split)
        return evaluate(self.model, arrays.x, arrays.y, self.data.info.num_classes, task=self.task)
