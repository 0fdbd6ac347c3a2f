"""Checks of an IMP channel-scope plan before training: the model has channel groups, the
score applies to them, and every level removes at least one channel."""
from __future__ import annotations

from torch import nn

from ..core.errors import SpecError
from .channels import channel_groups


def check_channel_levels(model: nn.Module, levels: int, fraction: float, score: str) -> None:
    """SpecError naming what to change when the channel scope cannot prune `levels` levels."""
    name = getattr(model, "name", type(model).__name__)
    try:
        groups = channel_groups(model)
    except SpecError as err:
        raise SpecError(f"The channel scope removes whole channels. {err}") from None
    if score == "bn":
        lacking = [g.name for g in groups if not g.norms]
        if lacking:
            raise SpecError(f"channel_score bn ranks channels by their BatchNorm scales, but {name} has none over "
                            f"{', '.join(lacking)}; use l1 or taylor.")
    alive = {g.name: g.size for g in groups}
    for level in range(1, levels + 1):
        # As keep_top removes them: round(fraction x alive) per group, never the last one.
        removed = {g: min(round(fraction * n), n - 1) for g, n in alive.items()}
        if not any(removed.values()):
            raise SpecError(f"With prune_fraction {fraction}, level {level} of the channel scope would remove no "
                            f"channel of {name} (its groups keep {min(alive.values())} to {max(alive.values())} "
                            f"channels by then); ask for at most {level - 1} levels or a larger prune fraction.")
        alive = {g: n - removed[g] for g, n in alive.items()}
