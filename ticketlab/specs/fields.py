"""What a spec field tells the command line: its help and how it is typed there.

A spec class declares each field with `setting(...)`; the command line (`cli/flags.py`)
makes every method's flags from these, so a default is written once, on the field, and
a plugin's spec gets its flags without CLI code of its own. The metadata changes no
hash: a run id depends on the field values alone.

A numeric field's range is declared on it too (`above`, `at_least`, `below`, `at_most`;
a tuple's bounds hold for each item): every spec checks its fields against them when it
is built (`specs/values.py`), and the flag's help says the range.

    levels: int = setting(10, help="pruning levels after the dense level 0", at_least=0)
"""
from __future__ import annotations

import dataclasses
from typing import Any

AUTO = "auto"  # the flag is the field's name with '-' for '_', e.g. --prune-fraction
# The bounds of a seed: what torch.manual_seed takes, without negative numbers.
SEED = {"at_least": 0, "at_most": 2**64 - 1}


def setting(default: Any = dataclasses.MISSING, *, help: str, flag: str | None = AUTO, many: str | None = None,
            repeat: bool = False, metavar: str | None = None, one_of: str | None = None,
            from_run: bool = False, above: float | None = None, at_least: float | None = None,
            below: float | None = None, at_most: float | None = None) -> Any:
    """A spec field with what its flag needs.

    - `help`: what the setting means (the flag adds its default).
    - `flag`: the flag's spelling; None: no flag of its own (set it with `--set`, or a
      command's hand-written flag sets it).
    - `many`: also a flag of that spelling taking a comma list: one run per value.
    - `repeat`: a tuple given one item per flag (`--dense-layer a --dense-layer b`)
      rather than as one comma list.
    - `one_of`: fields that share this name are given at most one at a time.
    - `from_run`: a nested spec named on the command line by a finished run (the
      positional RUN), rather than by flags of its own.
    - `above`, `at_least`, `below`, `at_most`: the bounds of a number (of each item of a
      tuple of numbers); the help then ends with them, so the flag shows the range.
    """
    if above is not None and at_least is not None or below is not None and at_most is not None:
        raise TypeError("setting() takes one lower bound (above or at_least) and one upper (below or at_most).")
    bounds = {"above": above, "at_least": at_least, "below": below, "at_most": at_most}
    bounds = {k: v for k, v in bounds.items() if v is not None}
    shown = f"{help}, {range_text(bounds)}" if bounds else help
    metadata = {"help": shown, "what": help, "flag": flag, "many": many, "repeat": repeat, "metavar": metavar,
                "one_of": one_of, "from_run": from_run, "bounds": bounds}
    return dataclasses.field(default=default, metadata=metadata)


_SIGNS = {"above": ">", "at_least": ">=", "below": "<", "at_most": "<="}


def range_text(bounds: dict[str, float]) -> str:
    """'> 0', '>= 1', 'in (0, 1]', ...: bounds (a lower one first) as messages and help write them."""
    if len(bounds) == 2:
        (low, a), (high, b) = bounds.items()
        return f"in {'(' if low == 'above' else '['}{a}, {b}{')' if high == 'below' else ']'}"
    return " ".join(f"{_SIGNS[k]} {v}" for k, v in bounds.items())


def info(f: dataclasses.Field) -> dict[str, Any]:
    """A field's command-line metadata; a field declared without `setting` has a flag of
    its own name and no help."""
    return {"help": "", "what": f.metadata.get("help", ""), "flag": AUTO, "many": None, "repeat": False,
            "metavar": None, "one_of": None, "from_run": False, "bounds": {}, **f.metadata}


def flag_name(f: dataclasses.Field) -> str | None:
    flag = info(f)["flag"]
    return "--" + f.name.replace("_", "-") if flag == AUTO else flag


def has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def default_of(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default
