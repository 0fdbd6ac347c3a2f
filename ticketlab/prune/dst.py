"""Dynamic sparse training rules (Mocanu et al. 2018 SET; Evci et al. 2020 RigL).

Layer densities: `uniform` (every layer at the target density) or `erk`
(Erdos-Renyi-Kernel: density proportional to (sum of dims) / (product of dims), scaled to
the target, layers that would exceed 1 kept dense). Every update drops, per layer, the
active weights of smallest magnitude and regrows as many: at random (SET) or where the
dense gradient is largest (RigL). Regrown weights start at zero. Each layer's count of
active weights never changes.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import torch

from ..core.errors import SpecError
from ..sparse import Mask
from .magnitude import smallest_to_remove
from .random import choose



def layer_densities(shapes: Mapping[str, torch.Size], density: float, distribution: str,
                    ignore: Collection[str] = ()) -> dict[str, float]:
    """Per-layer densities whose kept total is `density` of the layers outside `ignore`."""
    pruned = [n for n in shapes if n not in ignore]
    if distribution == "uniform":
        return {n: 1.0 if n in ignore else density for n in shapes}
    if distribution != "erk":
        raise SpecError(f"Unknown layer distribution '{distribution}': use uniform or erk.")
    sizes = {n: math.prod(shapes[n]) for n in pruned}
    raw = {n: sum(shapes[n]) / sizes[n] for n in pruned}
    dense: set[str] = set()
    while True:  # RigL's procedure: fix layers that would exceed 1 at dense and rescale the rest
        budget = density * sum(sizes.values()) - sum(sizes[n] for n in dense)
        free = [n for n in pruned if n not in dense]
        scale = budget / sum(raw[n] * sizes[n] for n in free)
        over = [n for n in free if scale * raw[n] > 1]
        if not over:
            break
        dense.update(over)
    out = {n: 1.0 if n in dense else scale * raw[n] for n in pruned}
    return {n: 1.0 if n in ignore else out[n] for n in shapes}


def random_mask(shapes: Mapping[str, torch.Size], densities: Mapping[str, float], generator: torch.Generator,
                device: torch.device | str = "cpu") -> Mask:
    """Exactly round(d x size) random entries per layer."""
    out = {}
    for name, shape in shapes.items():
        size = math.prod(shape)
        out[name] = choose(size, round(densities[name] * size), generator).view(shape).to(device)
    return Mask(out)


def drop_fraction_at(step: int, stop: int, initial: float = 0.3) -> float:
    """Cosine decay of the fraction of active weights replaced at each update."""
    return initial / 2 * (1 + math.cos(math.pi * min(step, stop) / max(stop, 1)))


def drop_and_grow(weights: Mapping[str, torch.Tensor], mask: Mask, fraction: float, *, method: str,
                  grads: Mapping[str, torch.Tensor] | None = None, generator: torch.Generator | None = None,
                  ignore: Collection[str] = ()) -> Mask:
    """One SET/RigL update; every layer keeps its number of active weights."""
    new = {}
    for name in mask:
        active = mask[name]
        count = round(fraction * int(active.sum()))
        if name in ignore or count == 0:
            new[name] = active.clone()
            continue
        (dropped,) = smallest_to_remove([weights[name].abs()], [active], count)
        kept = active & ~dropped
        if method == "rigl":
            score = grads[name].abs().float()
        else:
            score = torch.rand(active.shape, generator=generator).to(active.device)
        # Grow among all inactive positions (just-dropped ones included, as in RigL's code):
        # the largest scores are the smallest of the negated scores.
        (grown,) = smallest_to_remove([-score], [~kept], count)
        new[name] = kept | grown
    return Mask(new)
