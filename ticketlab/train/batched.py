"""Training several same-shaped tickets at once, as one stacked computation.

`BatchedTrainer` takes M `Trainer`s positioned at the same step (the IMP controls of a
level, seeds of one setting, ...): each keeps its own weights, mask, data order,
optimizer state and BatchNorm statistics. Their parameters and buffers are stacked
(`torch.func.stack_module_state`) and one `vmap`ped `functional_call` runs all members'
batches in one call; the loss is the sum of the members' mean losses, so each member's
gradient is exactly its own. One optimizer steps the stacked tensors: SGD (momentum,
weight decay) and Adam are elementwise, so a member's update is the one it would get
alone. Masks are enforced on the stacked gradients and weights as `MaskEnforcer` does;
`clip_grad` scales each member's gradients by that member's own global norm.

`write_back` copies member i's weights, buffers, optimizer state, step and running loss
into its own `Trainer`, so evaluation, checkpoints (in the single-network format, which
resumes unbatched) and results use the ordinary code. A member equals the same member
trained alone to float tolerance (tests check it).

Not batched: mask-changing hooks (dynamic sparse training), members at different steps,
different specs. The step runs under the precision policy's autocast (bf16 on CUDA by
default); channels_last is not used. torch's vmap does not autocast on a CPU, so there a
bf16 policy would stack in fp32: `api` then trains the members one by one instead.
"""
from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap

from ..core.progress import Progress
from .device import autocast
from .loop import Trainer
from .optim import clip_member_grads, spec_optimizer


class BatchedTrainer:
    def __init__(self, members: list[Trainer]):
        first = members[0]
        if any(t.step != first.step or t.total_steps != first.total_steps for t in members):
            raise ValueError("batched members must stand at the same step of the same training length")
        if any(t.on_backward is not None or t.after_step is not None for t in members):
            raise ValueError("members with training hooks (dynamic sparse training) cannot be batched")
        self.members, self.spec, self.device = members, first.spec, first.device
        self.step, self.total_steps = first.step, first.total_steps
        self.steps_per_epoch, self.eval_every = first.steps_per_epoch, first.eval_every
        self.lr_factor = first.lr_factor
        self.task = first.task  # one spec, one dataset: one task for all members
        models = [t.model for t in members]
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(first.model).to("meta")
        self.names = [n for n, _ in first.model.named_parameters()]
        self.optimizer = spec_optimizer(self.spec, [(n, self.params[n]) for n in self.names],
                                        getattr(first.model, "prunable_names", None))
        self.clip_grad = first.clip_grad
        self.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
        self._stack_optimizer_state()
        masked = set().union(*(set(t.mask) for t in members if t.mask is not None))
        self.masks = {}
        for name in masked:
            shape = self.params[name].shape[1:]
            self.masks[name] = torch.stack([
                t.mask[name].to(self.device, torch.float32) if t.mask is not None and name in t.mask
                else torch.ones(shape, device=self.device) for t in members])
        if any(t._loss_count != first._loss_count for t in members):
            raise ValueError("batched members must have run the same steps since their last evaluation")
        self.loss_sums = torch.stack([t._loss_sum.detach().to(self.device).float() for t in members])
        self.loss_count = first._loss_count

    def _stack_optimizer_state(self) -> None:
        states = [[t.optimizer.state.get(p, {}) for p in t.model.parameters()] for t in self.members]
        for index, name in enumerate(self.names):
            per_member = [s[index] for s in states]
            if any(bool(m) != bool(per_member[0]) for m in per_member):
                # One fresh optimizer among restored ones: stacking would drop or invent state.
                raise ValueError("batched members must all have optimizer state, or none")
            if not per_member[0]:
                continue
            stacked = {}
            for key, value in per_member[0].items():
                if torch.is_tensor(value) and value.dim() > 0:
                    stacked[key] = torch.stack([m[key] for m in per_member])
                else:  # Adam's step count: one for all, since all stand at the same step
                    stacked[key] = value.clone() if torch.is_tensor(value) else value
            self.optimizer.state[self.params[name]] = stacked

    def _forward(self, params, buffers, x):
        return functional_call(self.base, (params, buffers), (x,))

    def train_step(self, xs: torch.Tensor, ys: torch.Tensor) -> None:
        factor = self.lr_factor(self.step)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
        self.base.train()
        with autocast(self.device):
            logits = vmap(self._forward)(self.params, self.buffers, xs)
        per_member = self.task.member_losses(logits.float(), ys)
        self.optimizer.zero_grad(set_to_none=True)
        per_member.sum().backward()
        with torch.no_grad():
            for name, mask in self.masks.items():
                if self.params[name].grad is not None:
                    self.params[name].grad.mul_(mask)
        clip_member_grads([self.params[n] for n in self.names], self.clip_grad)  # each member by its own norm
        self.optimizer.step()
        with torch.no_grad():
            for name, mask in self.masks.items():
                self.params[name].mul_(mask)
        self.loss_sums += per_member.detach()
        self.loss_count += 1

    def run(self, until: int | None = None, *, progress: Progress | None = None, checkpoint_every: int = 0,
            on_checkpoint=None, on_eval=None) -> None:
        """Train all members to `until`; `on_eval(i, record)` and `on_checkpoint(i, state)`
        receive each member's evaluation record and single-network training state."""
        until = self.total_steps if until is None else min(until, self.total_steps)
        while self.step < until:
            epoch, start = divmod(self.step, self.steps_per_epoch)
            streams = [t.loader.epoch(epoch, start_step=start) for t in self.members]
            for batches in zip(*streams):
                xs = torch.stack([x for x, _ in batches])
                ys = torch.stack([y for _, y in batches])
                self.train_step(xs, ys)
                self.step += 1
                if progress is not None:
                    progress.advance(self.step)
                if self.step % self.eval_every == 0 or self.step == self.total_steps:
                    for i, trainer in enumerate(self.members):
                        self.write_back(i)
                        record = trainer.evaluate_now()
                        self.loss_sums[i] = 0
                        if on_eval is not None:
                            on_eval(i, record)
                    self.loss_count = 0
                if on_checkpoint is not None and checkpoint_every and self.step % checkpoint_every == 0 \
                        and self.step < self.total_steps:
                    for i, trainer in enumerate(self.members):
                        self.write_back(i)
                        on_checkpoint(i, trainer.state_dict())
                if self.step >= until:
                    break
        for i in range(len(self.members)):
            self.write_back(i)

    @torch.no_grad()
    def write_back(self, i: int) -> None:
        """Member i's state into its own Trainer (weights, buffers, optimizer, step, loss)."""
        trainer = self.members[i]
        for name, p in trainer.model.named_parameters():
            p.copy_(self.params[name][i])
        for name, b in trainer.model.named_buffers():
            if name in self.buffers:
                b.copy_(self.buffers[name][i])
        for name, p in zip(self.names, trainer.model.parameters()):
            stacked = self.optimizer.state.get(self.params[name])
            if stacked:
                trainer.optimizer.state[p] = {k: (v[i].clone() if torch.is_tensor(v) and v.dim() > 0 else
                                                  (v.clone() if torch.is_tensor(v) else v))
                                              for k, v in stacked.items()}
        for group, member_group in zip(self.optimizer.param_groups, trainer.optimizer.param_groups):
            member_group["lr"] = group["lr"]
        trainer.step = self.step
        trainer._loss_sum = self.loss_sums[i].detach().clone()
        trainer._loss_count = self.loss_count
