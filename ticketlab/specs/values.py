"""A spec's values against its fields' declared types and ranges, in one place for all
kinds: `coerce_value` turns what a config file or `--set` gives into the declared type,
and `check_values` checks what a spec is built with, however it was built (a config
file, the command line's flags, or Python), before the kind's own checks run.

A number must be finite and within the bounds its field declares (`setting(above=0)`,
`fields.py`), each item of a tuple of numbers too; a text must be printable and on one
line, since no name, duration or selector holds a control character and every message
that quotes it must stay one line.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import operator
import typing
from typing import Any

from ..core.errors import SpecError
from .fields import info, range_text

_WORDS = {int: "a whole number", float: "a number", str: "text"}
_TESTS = {"above": operator.gt, "at_least": operator.ge, "below": operator.lt, "at_most": operator.le}


def check_values(spec: Any) -> None:
    """Refuse a field whose value is not of its declared scalar type, not finite, outside its
    declared bounds, or (a text) not printable on one line: the message names the field,
    says what is valid and what was given."""
    hints = type_hints(type(spec))
    for f in dataclasses.fields(spec):
        item, many = scalar_of(hints.get(f.name))
        value = getattr(spec, f.name)
        if item is None or value is None and _optional(hints.get(f.name)):
            continue
        if not many:
            _check_one(f, value, item, "must be", "")
        elif isinstance(value, (tuple, list)):
            for one in value:
                _check_one(f, one, item, "must each be", f" in {list(value)!r}")
        else:
            raise SpecError(f"{f.name} must be a list, each item {_WORDS[item]} ({_what(f)}), got {value!r}.")


def _check_one(f: dataclasses.Field, value: Any, item: type, must: str, among: str) -> None:
    bounds, what = info(f)["bounds"], _what(f)
    rule = range_text(bounds)
    if not _is_a(value, item):
        raise SpecError(f"{f.name} {must} {_WORDS[item]}{' ' + rule if rule else ''} ({what}), got {value!r}{among}.")
    if item is str:
        if not value.isprintable():
            raise SpecError(f"{f.name} {must} printable text on one line ({what}), got {value!r}{among}.")
        return
    if not isinstance(value, numbers.Integral) and not math.isfinite(value):
        raise SpecError(f"{f.name} {must} a finite number{' ' + rule if rule else ''} ({what}), got {value!r}{among}.")
    if not _within(value, bounds):
        raise SpecError(f"{f.name} {must} {rule} ({what}), got {value!r}{among}.")


def _is_a(value: Any, item: type) -> bool:
    """Numbers by their abstract type (a NumPy scalar is one too), never a bool."""
    if isinstance(value, bool):
        return False
    return isinstance(value, {int: numbers.Integral, float: numbers.Real, str: str}[item])


def _within(value: Any, bounds: dict[str, float]) -> bool:
    return all(_TESTS[k](value, b) for k, b in bounds.items())


def _what(f: dataclasses.Field) -> str:
    return info(f)["what"] or f.name


def coerce_value(name: str, value: Any, hint: Any) -> Any:
    """A YAML or `--set` value as the field's declared scalar or tuple type (a nested spec is
    the caller's), or an error that says what was expected."""
    if value is None and _optional(hint):
        return None
    item, many = scalar_of(hint)
    target = _unwrap(hint)
    if many:
        items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) \
            else [value]
        items = [i.strip() if isinstance(i, str) else i for i in items]
        return tuple(coerce_value(name, i, item) for i in items if i != "")
    try:
        return _convert(value, target)
    except (TypeError, ValueError, OverflowError):
        raise SpecError(f"Setting '{name}' expects {getattr(target, '__name__', target)}, got {value!r}.") from None


def _convert(value: Any, target: Any) -> Any:
    """`value` as `target` (bool, int, float, str; anything else as given), or ValueError:
    a bool is never a number, a number never a bool, and a list or mapping never text."""
    if target is bool and not isinstance(value, bool):
        raise ValueError
    if target in (int, float, str) and isinstance(value, bool):
        raise ValueError
    if target is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    if target is float:
        return float(value)
    if target is str:
        if not isinstance(value, (str, int, float)):
            raise ValueError
        return str(value)
    return value


def scalar_of(hint: Any) -> tuple[type | None, bool]:
    """(int, float or str, whether a tuple of them) for a field's type; (None, False) else."""
    target = _unwrap(hint)
    many = typing.get_origin(target) is tuple or target is tuple
    if many:
        target = (typing.get_args(target) or (str,))[0]
    return (target if target in _WORDS else None), many


def _unwrap(hint: Any) -> Any:
    """X for Optional[X]."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if _optional(hint) and len(args) == 1 else hint


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """A spec class's field types (resolved once per class); none where they cannot be
    resolved (a class defined where its annotations' names are not reachable)."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        return {}
