"""The names that specs validate against, without torch: pruning scopes, the layer
distributions of dynamic sparse training, the pruning-at-initialization methods, and
the N:M scope's grammar."""
from __future__ import annotations

import re

from ..core.errors import SpecError
from .registry import RANDOM, scorer_names

SCOPES = ("global", "layerwise")
DISTRIBUTIONS = ("uniform", "erk")
CHANNEL_SCORES = ("l1", "bn", "taylor")  # how channel pruning scores a channel (channel_scoring.py)
CHANNEL_SCOPE = "channel"  # IMP's structured scope: whole channels (methods/imp_pruning.py)


def pai_methods() -> list[str]:
    """What a pai spec's `method` may be: every registered scorer (registry.py), and random."""
    return [*scorer_names(), RANDOM]


def parse_nm(scope: str) -> tuple[int, int] | None:
    """'2:4' -> (2, 4); None for another scope; a clear error for a malformed N:M."""
    match = re.fullmatch(r"(\d+):(\d+)", str(scope))
    if not match:
        return None
    n, m = int(match.group(1)), int(match.group(2))
    if not 0 < n < m:
        raise SpecError(f"An N:M scope keeps N of every M weights with 0 < N < M; got {scope}.")
    return n, m
