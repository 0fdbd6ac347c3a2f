"""Choosing the channels to keep from per-channel scores (`channel_scoring.py`).

Every selection returns {group: bool tensor [size]} and never empties a group: a group
with no channel would cut the network in two.
"""
from __future__ import annotations

import torch

from ..core.errors import SpecError, UnknownNameError

CHANNEL_SCOPES = ("layerwise", "global")


def _alive(scores: dict[str, torch.Tensor], kept: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    if kept is None:
        return {g: torch.ones(len(s), dtype=torch.bool) for g, s in scores.items()}
    wrong = [g for g, s in scores.items() if g not in kept or tuple(kept[g].shape) != tuple(s.shape)]
    if wrong:
        got = tuple(kept[wrong[0]].shape) if wrong[0] in kept else "missing"
        raise SpecError(f"The kept channels of group '{wrong[0]}' are {got}; give a bool tensor of its scores' "
                        f"shape {tuple(scores[wrong[0]].shape)} for every scored group.")
    return {g: kept[g].bool().cpu().clone() for g in scores}


def keep_top(scores: dict[str, torch.Tensor], fraction: float, kept: dict[str, torch.Tensor] | None = None,
             scope: str = "layerwise") -> dict[str, torch.Tensor]:
    """Remove round(fraction * alive) of the alive channels (`kept`, default all), lowest
    score first: per group (`layerwise`) or under one threshold over all groups (`global`,
    raw scores compared across groups). Each group keeps at least its best alive channel."""
    if scope not in CHANNEL_SCOPES:
        raise UnknownNameError("channel pruning scope", scope, list(CHANNEL_SCOPES))
    if not 0 <= fraction <= 1:
        raise SpecError(f"The fraction of channels to remove is {fraction}; it must lie in [0, 1].")
    alive = _alive(scores, kept)
    if scope == "layerwise":
        for g, s in scores.items():
            _remove(alive[g], s.float().cpu(), round(fraction * int(alive[g].sum())))
        return alive
    # Global: each group's best alive channel is spared, then the lowest of the rest go.
    candidates = []
    for g, s in scores.items():
        index = alive[g].nonzero().flatten()
        if len(index) > 1:
            s = s.float().cpu()
            best = index[s[index].argmax()]
            candidates += [(float(s[i]), g, int(i)) for i in index if i != best]
    count = round(fraction * sum(int(a.sum()) for a in alive.values()))
    for _, g, i in sorted(candidates, key=lambda c: c[0])[:count]:
        alive[g][i] = False
    return alive


def _remove(alive: torch.Tensor, score: torch.Tensor, count: int) -> None:
    index = alive.nonzero().flatten()
    if min(count, len(index) - 1) > 0:  # the best alive channel stays
        alive[index[torch.argsort(score[index], stable=True)[:min(count, len(index) - 1)]]] = False


def keep_count(scores: dict[str, torch.Tensor], counts: dict[str, int]) -> dict[str, torch.Tensor]:
    """The top counts[g] channels of each group by score."""
    out = {}
    for g, s in scores.items():
        n = counts.get(g)
        if not isinstance(n, int) or not 1 <= n <= len(s):
            raise SpecError(f"The count of channels to keep in group '{g}' is {n!r}; it must be a whole number "
                            f"from 1 to its {len(s)} channels.")
        out[g] = torch.zeros(len(s), dtype=torch.bool).index_fill_(
            0, torch.argsort(s.float().cpu(), descending=True, stable=True)[:n], True)
    return out


def random_channels(like: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """As many channels per group as `like` keeps, at random positions (the random-channel control)."""
    return {g: torch.zeros(len(bits), dtype=torch.bool).index_fill_(
        0, torch.randperm(len(bits), generator=generator)[:int(bits.sum())], True) for g, bits in like.items()}
