"""The device-memory budget for a dataset: sizes as users write them (500MB, 2GiB, bytes).

No torch here: the command line reads the flag and $TICKETLAB_DEVICE_DATA_BUDGET before
any run starts, so a bad size fails at once.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal

from ..core.errors import TicketlabError

DATA_BUDGET_ENV = "TICKETLAB_DEVICE_DATA_BUDGET"
UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)
VALID = ("a number of bytes (e.g. 500000000) or a number with a unit: B, KB, MB, GB, TB (powers of 1000) or "
         "KiB, MiB, GiB, TiB (powers of 1024), e.g. 500MB or 2GiB")


class DataBudgetError(TicketlabError, ValueError):
    """A device-data budget that is not a size."""


def parse_size(value: int | str, source: str = "data_budget") -> int:
    """`value` in bytes: an int as it is, a string such as "500MB", "2GiB", "1.5GB" or "1024".

    A fraction of a byte is dropped (sizes are compared with whole bytes). `source` names
    where the value came from in the error (a flag, the environment variable)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DataBudgetError(f"{source} {value!r} is not a size; valid: {VALID}.")
    if isinstance(value, int):
        if value < 0:
            raise DataBudgetError(f"{source} {value} is negative; valid: {VALID}.")
        return value
    match = _SIZE.fullmatch(value)
    unit = match and UNITS.get(match.group(2).lower() or "b")
    if not unit:
        raise DataBudgetError(f"{source} {value!r} is not a size; valid: {VALID}.")
    return int(Decimal(match.group(1)) * unit)  # Decimal: "0.1GB" is exactly 100000000 bytes


def data_budget(value: int | str | None, source: str = "data_budget") -> int | None:
    """The budget in bytes, or None for no limit (every dataset goes to the device)."""
    return None if value is None else parse_size(value, source)


def data_budget_setting(flag: str | None, environ: Mapping[str, str] = os.environ) -> int | None:
    """The command line's budget: the flag when given, else $TICKETLAB_DEVICE_DATA_BUDGET
    (an empty variable counts as unset), else None."""
    if flag is not None:
        return parse_size(flag, "--device-data-budget")
    text = environ.get(DATA_BUDGET_ENV, "")
    return parse_size(text, f"${DATA_BUDGET_ENV}") if text.strip() else None


def format_size(nbytes: int) -> str:
    """`nbytes` for people: 1.5 MiB, 512 B."""
    size, unit = float(nbytes), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
