"""Learning-rate schedules as pure functions of the step.

A pure function (rather than a stateful torch scheduler) makes rewinding and resuming
trivial: the learning rate at step k is known without replaying steps 0..k-1.

`cosine` runs its cosine over the whole run from step 0, and a `warmup` multiplies its
first steps by a linear ramp. `warmup_cosine` is the transformers' schedule: a linear
warm-up to the peak over the `warmup` steps (step k of it at (k + 1) / warmup, the last
at the peak, 1), then a cosine from the peak down to 0 at the end of training (the last
step just above 0); without a warm-up it is `cosine`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..core.errors import UnknownNameError

SCHEDULES = ["constant", "multistep", "cosine", "warmup_cosine"]


def lr_factor(name: str, *, total_steps: int, milestones: Sequence[int] = (), gamma: float = 0.1,
              warmup_steps: int = 0) -> Callable[[int], float]:
    """Return f(step) -> multiplier of the base learning rate, for the step about to be taken."""
    if name not in SCHEDULES:
        raise UnknownNameError("schedule", name, SCHEDULES)
    milestones = sorted(milestones)
    peak = max(warmup_steps - 1, 0)  # warmup_cosine's last warm-up step: where its cosine starts

    def factor(step: int) -> float:
        if name == "warmup_cosine":
            if step < warmup_steps:
                return (step + 1) / warmup_steps
            progress = min((step - peak) / max(total_steps - peak, 1), 1.0)
            return 0.5 * (1.0 + math.cos(math.pi * progress))
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
