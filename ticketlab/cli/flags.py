"""A method's flags, made from its spec's fields (`specs/fields.py`), and their values read back.

Every generated flag defaults to None, "not given": the spec then gets its field's
default, so no default is written twice and a line without the flag makes the same spec
(and run id) as one that repeats the default. Comma lists are read after parsing, so a
bad one is a one-paragraph error like any other.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import typing
from dataclasses import dataclass
from typing import Any, Callable

from ..core.errors import TicketlabError
from ..specs import Spec
from ..specs.fields import AUTO, default_of, flag_name, has_default, info
from .args import typed_items, typed_list
from .common import batch_flag, common_flags

SCALARS = (int, float, str)


@dataclass(frozen=True)
class Flag:
    """One flag of a field. `form`: value (one scalar), list (a comma list for a tuple),
    repeat (a tuple, one item per flag), on / off (a bool), many (a comma list: one spec
    per value) or run (a positional naming a finished run whose spec the field holds)."""

    path: tuple[str, ...]       # the field, from the command's spec: ("levels",), ("train", "model")
    field: dataclasses.Field
    owner: type[Spec]           # the spec class that declares the field
    form: str
    spelling: str               # --levels; for a run, its metavar
    item: Any                   # the scalar type (of a tuple's items); for a run, the spec class
    required: bool              # no default: neither the field's nor that of a nested spec holding it

    @property
    def dest(self) -> str:  # apart from the common flags' dests, whatever the field's name
        return "spec:" + ".".join(self.path) + (":many" if self.form == "many" else "")


def flags_of(cls: type[Spec], path: tuple[str, ...] = (), optional: bool = False) -> list[Flag]:
    """The flags of `cls`'s fields, a nested spec's in its place (unless a run names it);
    `optional`: `cls` is a nested spec with a default, so none of its fields is required."""
    hints = typing.get_type_hints(cls)
    out: list[Flag] = []
    for f in dataclasses.fields(cls):
        meta, hint, here = info(f), _unwrap(hints[f.name]), path + (f.name,)
        required = not optional and not has_default(f)
        if isinstance(hint, type) and issubclass(hint, Spec):
            out += [Flag(here, f, cls, "run", meta["metavar"] or "run", hint, True)] if meta["from_run"] \
                else flags_of(hint, here, not required)
            continue
        form, item = _form(hint, f)
        spelling = flag_name(f)
        if form == "off" and meta["flag"] == AUTO:
            spelling = "--no-" + f.name.replace("_", "-")
        if form and spelling:
            out.append(Flag(here, f, cls, form, spelling, item, required))
        if meta["many"] and hint in SCALARS:
            out.append(Flag(here, f, cls, "many", meta["many"], hint, required))
    return out


def _unwrap(hint: Any) -> Any:
    """X for Optional[X]."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if type(None) in typing.get_args(hint) and len(args) == 1 else hint


def _form(hint: Any, f: dataclasses.Field) -> tuple[str | None, Any]:
    if hint is bool:
        return ("off" if has_default(f) and default_of(f) is True else "on"), bool
    if hint in SCALARS:
        return "value", hint
    if typing.get_origin(hint) is tuple:
        item = (typing.get_args(hint) or (str,))[0]
        if item in SCALARS:
            return ("repeat" if info(f)["repeat"] else "list"), item
    return None, None  # not a plain scalar or tuple: --set only


def add_flags(parser: argparse.ArgumentParser, flags: list[Flag], container: Callable[[Flag], Any]) -> None:
    """Add each flag to `container(flag)` (an argument group), except one whose spelling the
    command has already: a hand-written flag (or a common one) wins."""
    exclusive: dict[Any, Any] = {}
    for flag in flags:
        if flag.form == "run":
            parser.add_argument(flag.dest, metavar=flag.spelling, help=help_of(flag))
            continue
        if flag.spelling in parser._option_string_actions or flag.spelling in common_spellings():
            continue
        meta, target = info(flag.field), container(flag)
        key = meta["one_of"] or (flag.path if meta["many"] and flag_name(flag.field) else None)
        if key is not None:
            if key not in exclusive:  # a required field given as one value or as many
                exclusive[key] = target.add_mutually_exclusive_group(required=bool(meta["many"]) and flag.required)
            target = exclusive[key]
        kwargs: dict[str, Any] = {"dest": flag.dest, "default": None, "help": help_of(flag)}
        if flag.form in ("on", "off"):
            kwargs.update(action="store_const", const=flag.form == "on")
        else:
            kwargs["metavar"] = meta["metavar"] or flag.spelling.lstrip("-").upper().replace("-", "_")
            if flag.form == "repeat":
                kwargs["action"] = "append"
            if flag.form == "value":
                kwargs["type"] = flag.item
            kwargs["required"] = key is None and flag.required
        target.add_argument(flag.spelling, **kwargs)


@functools.cache
def common_spellings() -> frozenset[str]:
    """The spellings of the common flags (and --batch), which a method command adds after its
    generated ones: a field of the same name is then given with --set."""
    scratch = argparse.ArgumentParser(add_help=False)
    common_flags(scratch)
    batch_flag(scratch, "")
    return frozenset(scratch._option_string_actions)


def help_of(flag: Flag) -> str:
    text, f = info(flag.field)["help"], flag.field
    if flag.form == "many":
        text = f"comma list of {flag.spelling.lstrip('-').replace('-', ' ')}, one run each"
    elif flag.form == "off":
        text = "do not " + text
    elif flag.form == "list" and "comma" not in text:
        text += " (a comma list)"
    elif flag.form == "repeat":
        text += " (repeatable)"
    if flag.form not in ("on", "off", "run") and has_default(f) and default_of(f) not in ("", (), None):
        default = default_of(f)
        text += f" (default {','.join(map(str, default)) if isinstance(default, tuple) else default})"
    return text.replace("%", "%%")  # argparse formats help with %


def given(args: argparse.Namespace, flags: list[Flag]) -> tuple[dict, dict]:
    """The values typed on the line, by field path: (single values, lists of a `many` flag)."""
    values: dict[tuple[str, ...], Any] = {}
    many: dict[tuple[str, ...], list] = {}
    for flag in flags:
        raw = getattr(args, flag.dest, None)
        if raw is None or flag.form == "run":
            continue
        if flag.form == "many":
            many[flag.path] = typed_list(raw, flag.spelling, flag.item)
            if not many[flag.path]:
                example = "0,1,2" if flag.item is int else "0.1,0.2"
                raise TicketlabError(f"{flag.spelling} needs at least one value, e.g. {flag.spelling} {example}.")
        elif flag.form == "list":
            values[flag.path] = tuple(typed_list(raw, flag.spelling, flag.item))
        elif flag.form == "repeat":
            values[flag.path] = tuple(typed_items(raw, flag.spelling, flag.item))
        else:
            values[flag.path] = raw
    return values, many
