"""Parsing helpers for model names like 'mlp_300_100' or 'cifar_resnet_20_16'.

Each family module offers `PATTERNS` (human-readable names for error messages),
`parse(name)` (its plan for a name of the family, None for a name of another family)
and `build(name, plan, input_shape, num_classes)`.
"""
from __future__ import annotations

import re


class BadName(Exception):
    """A name that belongs to a family but is malformed; the message says how to fix it."""


def positive_int(text: str) -> int | None:
    """The integer in text if it is written canonically (no sign, no leading zero), else None.

    Canonical only, so that two spellings of one model never get two spec hashes.
    """
    return int(text) if re.fullmatch(r"[1-9][0-9]*", text) else None
