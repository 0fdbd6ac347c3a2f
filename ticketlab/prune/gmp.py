"""Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune: exploring the
efficacy of pruning for model compression", arXiv 1710.01878; their code is TensorFlow's
`tensorflow/contrib/model_pruning`, `pruning.py`).

The network starts dense. Every `every` steps from `start` to `stop` the sparsity rises
along the cubic schedule

    s_t = s_f + (s_i - s_f) * (1 - (t - start) / (stop - start)) ** 3

and the smallest-magnitude weights still alive are removed until it is reached; pruned
weights stay pruned, and training goes on under the final mask to the end. Layer targets:
`uniform` (every layer follows the schedule, as Zhu & Gupta prune each layer), `global`
(one magnitude threshold over all pruned layers, the common alternative) or `erk` (each
layer follows the schedule to its own ERK density, as RigL's layer densities).
"""
from __future__ import annotations

from collections.abc import Collection, Mapping

import torch

from ..sparse import Mask
from .magnitude import smallest_to_remove


def sparsity_at(step: int, start: int, stop: int, final: float, initial: float = 0.0) -> float:
    """The cubic schedule's sparsity at `step` (`initial` before `start`, `final` from `stop` on)."""
    if step <= start:
        return initial
    if step >= stop:
        return final
    return final + (initial - final) * (1 - (step - start) / (stop - start)) ** 3


def pruning_steps(start: int, stop: int, every: int) -> set[int]:
    """The steps at which the mask is updated: start, start + every, ..., and stop itself,
    so that the final sparsity is reached exactly where the schedule ends."""
    return set(range(start, stop, every)) | {stop}


def gmp_mask(weights: Mapping[str, torch.Tensor], mask: Mask, targets: Mapping[str, float], *,
             scope: str, ignore: Collection[str] = ()) -> Mask:
    """`mask` pruned by magnitude among its alive weights down to the layer densities
    `targets` (scope `layerwise`), or down to their weighted total under one threshold
    (scope `global`). A layer already below its target keeps what it has: weights pruned
    stay pruned."""
    new = {n: mask[n].clone() for n in mask}
    pruned = [n for n in mask if n not in ignore]
    groups = [pruned] if scope == "global" else [[n] for n in pruned]
    for names in groups:
        keep = round(sum(targets[n] * mask[n].numel() for n in names))
        alive = [mask[n] for n in names]
        count = sum(int(a.sum()) for a in alive) - keep
        if count <= 0:
            continue
        for n, removed in zip(names, smallest_to_remove([weights[n].abs() for n in names], alive, count)):
            new[n] = new[n] & ~removed.to(new[n].device)
    return Mask(new)
