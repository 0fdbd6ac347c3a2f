"""SynFlow's data-free saliency (Tanaka et al. 2020), one scoring round.

The network is "linearized" as in the official code: every floating tensor of the state
(weights, biases, BatchNorm affine parameters and running statistics) is replaced by its
absolute value, and the net runs in eval mode on one all-ones input. R is the sum of the
outputs, the synaptic flow; a weight's score is |w * dR/dw|. The official code restores
the signs afterwards; we score a private copy instead, so there is nothing to restore.

Double precision: R is a product of one factor per layer (about sqrt(2 fan_in) each at
Kaiming init), so deep nets leave float32's range; float64 keeps the ranking exact.
"""
from __future__ import annotations

import copy

import torch


def scoring_copy(model: torch.nn.Module, *, train: bool) -> torch.nn.Module:
    """A private copy to score on: the caller's weights, buffers and grads stay untouched."""
    twin = copy.deepcopy(model)
    twin.train(train)
    for p in twin.parameters():
        p.grad = None  # deepcopy carries the caller's grads along; they are not ours to use
        p.requires_grad_(True)
    return twin


@torch.no_grad()
def linearized_copy(model: torch.nn.Module) -> torch.nn.Module:
    twin = scoring_copy(model, train=False).double()
    for tensor in twin.state_dict().values():  # shares storage with the copy's parameters
        if tensor.is_floating_point():
            tensor.abs_()
    return twin


def synflow_scores(linear: torch.nn.Module, weights: list[torch.Tensor], ones: torch.Tensor) -> list[torch.Tensor]:
    """|w * dR/dw| for `weights` of a linearized copy, R = sum of its outputs on `ones`."""
    flow = linear(ones).sum()
    grads = torch.autograd.grad(flow, weights, allow_unused=True)
    return [(w * g).abs().detach() if g is not None else torch.zeros_like(w)
            for w, g in zip(weights, grads)]


def apply_alive(weights: list[torch.Tensor], alive: list[torch.Tensor]) -> None:
    """Zero the pruned weights, so the next round sees the flow of the pruned net."""
    with torch.no_grad():
        for w, a in zip(weights, alive):
            w.mul_(a.to(w.dtype))
