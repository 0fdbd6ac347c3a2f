"""The parts of an early-bird search (`early_bird.py`): the mask drawn at the target density,
the distance between two of them, the stop rule and the L1 penalty on BatchNorm scales."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..prune import magnitude_prune
from ..prune.channels import channel_groups, channel_mask, channel_scores, keep_top
from ..sparse import Mask

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class TicketDraw:
    """Draws the mask of `model` at `density`: `bits` (what distances compare: the kept
    channels of each group, or the weight mask itself), and the weight `mask` they make."""

    def __init__(self, model: nn.Module, structure: str, density: float):
        self.structure, self.density = structure, density
        self.groups = channel_groups(model) if structure == "channel" else None

    def bits(self, model: nn.Module) -> dict[str, torch.Tensor]:
        if self.groups is None:  # one global magnitude threshold over the prunable weights
            params = dict(model.named_parameters())
            mask = magnitude_prune(params, Mask.ones_like(model), 1 - self.density, scope="global")
            return {n: t.cpu() for n, t in mask.items()}
        # One threshold over every channel's |gamma| (the code's pre_mask); a channel of a
        # residual stream, under several BatchNorms, is scored by their mean |gamma|.
        scores = channel_scores(model, self.groups, "bn")
        scores = {g.name: scores[g.name] / len(g.norms) for g in self.groups}
        return keep_top(scores, 1 - self.density, scope="global")

    def mask(self, model: nn.Module, bits: dict[str, torch.Tensor]) -> Mask:
        return Mask(bits) if self.groups is None else channel_mask(model, self.groups, bits)


def mask_distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """The normalized Hamming distance: the fraction of entries that differ (the paper's mask
    distance, 1 - mean(a == b) in the code's `cal_dist`)."""
    differ = sum(int((a[n].cpu() != b[n].cpu()).sum()) for n in a)
    return differ / max(sum(a[n].numel() for n in a), 1)


def drawn(distances: list[float], window: int, threshold: float) -> bool:
    """The stop rule: the last `window` distances are all below `threshold`."""
    return len(distances) >= window and max(distances[-window:]) < threshold


def bn_penalty(strength: float):
    """A Trainer `on_backward` hook adding the subgradient of strength * sum |gamma| over
    every BatchNorm scale, strength * sign(gamma), to its gradient (the code's `updateBN`)."""

    @torch.no_grad()
    def add_subgradient(trainer) -> None:
        for module in trainer.model.modules():
            if isinstance(module, BATCH_NORMS) and module.weight is not None and module.weight.grad is not None:
                module.weight.grad.add_(torch.sign(module.weight), alpha=strength)

    return add_subgradient


def imp_levels(density: float, prune_fraction: float = 0.2) -> int:
    """The IMP levels that removing `prune_fraction` of the survivors per level needs to reach
    `density` or below."""
    if density >= 1:
        return 0
    return max(0, math.ceil(math.log(density) / math.log(1 - prune_fraction) - 1e-9))
