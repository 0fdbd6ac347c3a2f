"""Optimizers by name."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import UnknownNameError

if TYPE_CHECKING:
    import torch

OPTIMIZERS = ["sgd", "adam", "adamw"]


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
