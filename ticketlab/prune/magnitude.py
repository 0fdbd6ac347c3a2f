"""Magnitude pruning: remove a fraction of the surviving weights with the smallest |w|.

Weights are split into groups that are pruned apart: each layer with its own rate
override is one group; the remaining layers form one group (global scope: one threshold
over all of them) or a group each (layer-wise scope); ignored layers are never pruned.
Each group loses exactly round(fraction x surviving) weights; ties are broken by
position, so the result is deterministic.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping

import torch

from ..sparse import Mask



def prune_groups(names: list[str], scope: str, rates: Mapping[str, float], ignore: Collection[str],
                 fraction: float) -> list[tuple[list[str], float]]:
    """[(names, fraction)] groups to prune apart."""
    shared = [n for n in names if n not in rates and n not in ignore]
    groups = [([n], rates[n]) for n in names if n in rates and n not in ignore]
    if scope == "global":
        groups.append((shared, fraction)) if shared else None
    else:
        groups += [([n], fraction) for n in shared]
    return groups


def smallest_to_remove(scores: list[torch.Tensor], alive: list[torch.Tensor], count: int) -> list[torch.Tensor]:
    """Boolean tensors marking the `count` alive entries with the smallest scores."""
    flat_scores = torch.cat([s.detach().flatten().float() for s in scores])
    flat_alive = torch.cat([a.flatten() for a in alive])
    candidates = flat_alive.nonzero().squeeze(1)
    # Stable sort: equal scores are removed in order of position, deterministically.
    order = torch.sort(flat_scores[candidates], stable=True).indices[:count]
    removed = torch.zeros_like(flat_alive)
    removed[candidates[order]] = True
    out, start = [], 0
    for a in alive:
        out.append(removed[start:start + a.numel()].view_as(a))
        start += a.numel()
    return out


def magnitude_prune(weights: Mapping[str, torch.Tensor], mask: Mask, fraction: float, *, scope: str = "global",
                    rates: Mapping[str, float] | None = None, ignore: Collection[str] = ()) -> Mask:
    """A new mask with `fraction` of each group's surviving weights removed by smallest |w|."""
    return prune_by_score({n: weights[n].detach().abs() for n in mask}, mask, fraction, scope=scope,
                          rates=rates, ignore=ignore)


def prune_by_score(scores: Mapping[str, torch.Tensor], mask: Mask, fraction: float, *, scope: str = "global",
                   rates: Mapping[str, float] | None = None, ignore: Collection[str] = ()) -> Mask:
    """Like `magnitude_prune` for any score where smaller means less important."""
    new = {n: mask[n].clone() for n in mask}
    for names, rate in prune_groups(list(mask), scope, rates or {}, ignore, fraction):
        alive = [mask[n].to(scores[n].device) for n in names]
        count = round(rate * sum(int(a.sum()) for a in alive))
        for n, removed in zip(names, smallest_to_remove([scores[n] for n in names], alive, count)):
            new[n] = new[n] & ~removed.to(new[n].device)
    return Mask(new)


def keep_counts(mask: Mask, groups: list[tuple[list[str], float]]) -> list[int]:
    return [sum(int(mask[n].sum()) for n in names) for names, _ in groups]


def prune_to_counts(scores: Mapping[str, torch.Tensor], like: Mask, *, scope: str = "global",
                    rates: Mapping[str, float] | None = None, ignore: Collection[str] = ()) -> Mask:
    """One shot from dense: keep, in each group, as many top-scoring weights as `like` keeps there.

    This is one-shot pruning matched to an iterative ticket: the same groups, the same
    number of weights in each, chosen in a single step.
    """
    dense = Mask({n: torch.ones_like(like[n]) for n in like})
    new = {n: dense[n].clone() for n in dense}
    groups = prune_groups(list(like), scope, rates or {}, ignore, 0.0)
    for (names, _), kept in zip(groups, keep_counts(like, groups)):
        alive = [dense[n].to(scores[n].device) for n in names]
        total = sum(a.numel() for a in alive)
        for n, removed in zip(names, smallest_to_remove([scores[n] for n in names], alive, total - kept)):
            new[n] = new[n] & ~removed.to(new[n].device)
    return Mask(new)
