"""Edge-popup's pieces: a layer's top-k mask with a straight-through gradient, and the score draw.

Ramanujan, Wortsman, Kembhavi, Farhadi and Rastegari, "What's hidden in a randomly weighted
neural network?", CVPR 2020 (arXiv 1911.13299); the authors' code is
github.com/allenai/hidden-networks (`utils/conv_type.py`: `GetSubnet`, `SubnetConv`;
`utils/builder.py`: `_init_conv`). Every scored weight w has a score s; the forward pass uses
w * 1[|s| among the k largest of its layer], and the backward pass hands the gradient of the
mask on to |s| unchanged (straight-through), so dL/d|s| = dL/d(w m) * w for every weight,
kept or not: a weight outside the mask can re-enter it.

The authors' `prune_rate` is the fraction of a layer's weights *kept* (their `GetSubnet` zeroes
the lowest int((1 - k) n) scores); here it is `density`, and a layer keeps exactly
round(density * n) of its n weights (at least one).
"""
from __future__ import annotations

import math

import torch

from ..models.init import fan_in


def kept_count(numel: int, density: float) -> int:
    """Weights a scored layer of `numel` keeps: round(density * numel), at least 1."""
    return max(1, min(numel, round(density * numel)))


class TopK(torch.autograd.Function):
    """1 on the `kept` largest entries of `magnitudes`, 0 elsewhere; gradient straight through."""

    @staticmethod
    def forward(ctx, magnitudes: torch.Tensor, kept: int) -> torch.Tensor:
        flat = magnitudes.detach().flatten()
        mask = torch.zeros_like(flat)
        mask[flat.topk(kept, sorted=False).indices] = 1
        return mask.view_as(magnitudes)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


def top_k_mask(scores: torch.Tensor, kept: int) -> torch.Tensor:
    """The layer's float mask from its scores, as `SubnetConv` makes it from `scores.abs()`:
    the gradient reaching a score is sign(s) * dL/dm (the derivative of |s|)."""
    return TopK.apply(scores.abs(), kept)


def init_scores(weight: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Scores shaped as `weight`, Kaiming uniform with a = sqrt(5) as `SubnetConv` draws them:
    U(-b, b), b = 1 / sqrt(fan_in). Drawn on the CPU from `generator` (the same on any device)."""
    bound = 1.0 / math.sqrt(fan_in(weight))
    draw = torch.rand(weight.shape, generator=generator, dtype=torch.float32)
    return ((draw * 2 - 1) * bound).to(device=weight.device, dtype=weight.dtype)


def fan_scale(density: float) -> float:
    """The factor that turns a weight drawn with fan_in into one drawn with density * fan_in
    (`scale_fan`): std gain / sqrt(density * fan_in), for signed constants and normals alike."""
    return 1.0 / math.sqrt(density)
