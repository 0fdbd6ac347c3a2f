"""Checks of an IMP channel-scope plan before training: the model has channel groups, the
score applies to them, and every level removes at least one channel."""
from __future__ import annotations

import torch
from torch import nn

from ..core.errors import SpecError
from .channel_scoring import require_batchnorm
from .channel_select import keep_top
from .channels import channel_groups


def check_channel_levels(model: nn.Module, levels: int, fraction: float, score: str) -> None:
    """SpecError naming what to change when the channel scope cannot prune `levels` levels."""
    name = getattr(model, "name", type(model).__name__)
    try:
        groups = channel_groups(model)
    except SpecError as err:
        raise SpecError(f"The channel scope removes whole channels. {err}") from None
    if score == "bn":
        require_batchnorm(model, groups, "use channel_score l1 or taylor.")
    # The levels as keep_top removes channels (never a group's last one), on scores that do not matter.
    kept = {g.name: torch.ones(g.size, dtype=torch.bool) for g in groups}
    scores = {g.name: torch.zeros(g.size) for g in groups}
    for level in range(1, levels + 1):
        new = keep_top(scores, fraction, kept=kept)
        if all(torch.equal(new[g], kept[g]) for g in kept):
            alive = [int(k.sum()) for k in kept.values()]
            raise SpecError(f"With prune_fraction {fraction}, level {level} of the channel scope would remove no "
                            f"channel of {name} (its groups keep {min(alive)} to {max(alive)} channels by then); "
                            f"ask for at most {level - 1} levels or a larger prune fraction.")
        kept = new
