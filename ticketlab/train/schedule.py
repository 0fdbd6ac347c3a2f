"""Learning-rate schedules as pure functions of the step.

A pure function (rather than a stateful torch scheduler) makes rewinding and resuming
trivial: the learning rate at step k is known without replaying steps 0..k-1.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..core.errors import UnknownNameError

SCHEDULES = ["constant", "multistep", "cosine"]


def lr_factor(name: str, *, total_steps: int, milestones: Sequence[int] = (), gamma: float = 0.1,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """Return f(step) -> multiplier of the base learning rate, for the step about to be taken."""
    if name not in SCHEDULES:
        raise UnknownNameError("schedule", name, SCHEDULES)
    milestones = sorted(milestones)

    def factor(step: int) -> float:
        if name == "multistep":
            base = gamma ** sum(step >= m for m in milestones)
        elif name == "cosine":
            progress = min(step / max(total_steps, 1), 1.0)
            base = 0.5 * (1.0 + math.cos(math.pi * progress))
        else:
            base = 1.0
        if warmup_steps and step < warmup_steps:
            base *= (step + 1) / warmup_steps
        return base

    return factor
