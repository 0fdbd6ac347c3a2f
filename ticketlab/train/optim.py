"""Optimizers by name, the parameter groups of `decay_on`, and gradient clipping."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..core.errors import TicketlabError, UnknownNameError

if TYPE_CHECKING:
    import torch

OPTIMIZERS = ["sgd", "adam", "adamw"]
DECAY_ON = ["all", "prunable"]  # which parameters weight_decay applies to
CLIP_EPS = 1e-6  # what torch.nn.utils.clip_grad_norm_ adds to the norm it divides by


def build_optimizer(name: str, params, *, lr: float, momentum: float = 0.0, nesterov: bool = False,
                    weight_decay: float = 0.0) -> "torch.optim.Optimizer":
    import torch

    # foreach=True: one fused multi-tensor update per step (the default on CUDA, not always on CPU).
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0,
                               weight_decay=weight_decay, foreach=True)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True)
    raise UnknownNameError("optimizer", name, OPTIMIZERS)


def spec_optimizer(spec, named: Iterable[tuple[str, "torch.Tensor"]],
                   prunable: Sequence[str] | None) -> "torch.optim.Optimizer":
    """The optimizer of a training spec (anything with optimizer, lr, momentum, nesterov and
    weight_decay; `decay_on` where it has one) over `named` (name, tensor) pairs.

    decay_on 'all' (the default): one group, every tensor decayed, as before the setting
    existed. 'prunable': two groups, the tensors named in `prunable` (the model's
    `prunable_names`) with weight_decay and the others (norms, biases, weights left dense)
    with none; a group with no tensors is left out."""
    named = list(named)
    decay_on = getattr(spec, "decay_on", "all")
    if decay_on == "all":
        params = [p for _, p in named]
    elif decay_on == "prunable":
        if prunable is None:
            raise TicketlabError("decay_on=prunable decays the model's prunable weights alone, but this model names "
                                 "none (it has no prunable_names): use decay_on=all, or a model that names them.")
        keep = set(prunable)
        groups = [{"params": [p for n, p in named if n in keep], "weight_decay": spec.weight_decay},
                  {"params": [p for n, p in named if n not in keep], "weight_decay": 0.0}]
        params = [g for g in groups if g["params"]]
    else:
        raise UnknownNameError("decay_on setting", decay_on, DECAY_ON)
    return build_optimizer(spec.optimizer, params, lr=spec.lr, momentum=spec.momentum, nesterov=spec.nesterov,
                           weight_decay=spec.weight_decay)


def clip_grads(params: Iterable["torch.Tensor"], max_norm: float) -> None:
    """Scale the gradients so that their global norm is at most `max_norm` (0: leave them)."""
    if max_norm > 0:
        import torch

        torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], max_norm, foreach=True)


def clip_member_grads(params: Iterable["torch.Tensor"], max_norm: float) -> None:
    """`clip_grads` for stacked tensors (member i of each at index i of its first dimension):
    each member's gradients are scaled by its own global norm, as `clip_grads` would scale
    them alone, not by the norm across members."""
    if max_norm <= 0:
        return
    import torch

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    with torch.no_grad():
        # As clip_grad_norm_: each tensor's norm, then the norm of those norms; per member here.
        norms = torch.stack([torch.linalg.vector_norm(g.reshape(len(g), -1), dim=1) for g in grads])
        total = torch.linalg.vector_norm(norms, dim=0)
        scale = (max_norm / (total + CLIP_EPS)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.to(g.dtype).view(-1, *[1] * (g.dim() - 1)))
