"""Random masks for the controls: same density as a ticket, no information from training.

- `layerwise`: each layer's kept entries shuffled within the layer (keeps every layer's
  density; the usual "random pruning" control of the lottery-ticket papers);
- `global`: the ticket's total count drawn uniformly over all prunable weights of the
  pruned layers (layer densities then vary by chance);
- `uniform`: every pruned layer at exactly the ticket's overall density.
Layers left dense (ignored) stay dense in every variant.
"""
from __future__ import annotations

from collections.abc import Collection

import torch

from ..sparse import Mask

RANDOM_KINDS = ("layerwise", "global", "uniform")


def choose(numel: int, kept: int, generator: torch.Generator) -> torch.Tensor:
    """A flat bool tensor with exactly `kept` of `numel` entries set, uniformly at random."""
    flat = torch.zeros(numel, dtype=torch.bool)
    flat[torch.randperm(numel, generator=generator)[:kept]] = True
    return flat


def random_mask_like(mask: Mask, kind: str, generator: torch.Generator, ignore: Collection[str] = ()) -> Mask:
    if kind not in RANDOM_KINDS:
        raise ValueError(f"random mask kind must be one of {RANDOM_KINDS}, got {kind!r}")
    pruned = [n for n in mask if n not in ignore]
    out = {n: mask[n].clone() for n in mask if n in ignore}
    if kind == "layerwise":
        for n in pruned:
            out[n] = choose(mask[n].numel(), int(mask[n].sum()), generator).view_as(mask[n])
    elif kind == "uniform":
        total = sum(mask[n].numel() for n in pruned)
        density = sum(int(mask[n].sum()) for n in pruned) / max(total, 1)
        for n in pruned:
            out[n] = choose(mask[n].numel(), round(density * mask[n].numel()), generator).view_as(mask[n])
    else:
        sizes = [mask[n].numel() for n in pruned]
        flat = choose(sum(sizes), sum(int(mask[n].sum()) for n in pruned), generator)
        for n, part in zip(pruned, flat.split(sizes)):
            out[n] = part.view_as(mask[n])
    return Mask({n: out[n].to(mask[n].device) for n in mask})
