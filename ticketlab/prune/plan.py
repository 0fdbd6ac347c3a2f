"""Checking an IMP schedule before any training: do enough weights survive every level?"""
from __future__ import annotations

from collections.abc import Collection, Mapping

from ..core.errors import SpecError
from .magnitude import prune_groups


def planned_kept(sizes: Mapping[str, int], levels: int, fraction: float, *, scope: str,
                 rates: Mapping[str, float], ignore: Collection[str]) -> list[int]:
    """Weights kept per prune group after `levels` levels (same rounding as the pruner)."""
    kept = []
    for names, rate in prune_groups(list(sizes), scope, rates, ignore, fraction):
        count = sum(sizes[n] for n in names)
        for _ in range(levels):
            count -= round(rate * count)
        kept.append(count)
    return kept


def check_levels(sizes: Mapping[str, int], levels: int, fraction: float, *, scope: str,
                 rates: Mapping[str, float], ignore: Collection[str]) -> None:
    """Refuse a schedule under which some level would prune nothing from a group, or empty a layer.

    With exact per-level counts (round(rate x survivors)), a small group eventually stops
    losing weights; its densities would then no longer follow (1 - rate)^level.
    """
    for names, rate in prune_groups(list(sizes), scope, rates, ignore, fraction):
        count = sum(sizes[n] for n in names)
        for level in range(1, levels + 1):
            removed = round(rate * count)
            count -= removed
            if removed == 0 or count < len(names):
                where = names[0] if len(names) == 1 else f"the {len(names)} globally pruned layers"
                raise SpecError(
                    f"{levels} levels at {rate:g} per level are too many for {where}: level {level} would "
                    f"{'prune nothing more' if removed == 0 else 'leave fewer than one weight per layer'} "
                    f"({count} left). Ask for at most {level - 1} levels, a larger model, or leave that layer dense.")
