"""Spec values by field path, e.g. ("train", "seed"): the specs a command line builds from
them, and the fields that no flag sets."""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ..core.errors import TicketlabError
from ..specs import Spec, TrainSpec
from ..specs.fields import default_of, has_default, info

Path = tuple[str, ...]


def training_path(cls: type[Spec]) -> Path | None:
    if issubclass(cls, TrainSpec):
        return ()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and issubclass(hint, TrainSpec) and not info(f)["from_run"]:
            return (f.name,)
    return None


def flagless(cls: type[Spec], flagged: set[Path], path: Path) -> list[str]:
    """The fields (nested ones too, unless a run names them) no flag sets, as --set names them:
    a nested field by its own name when --set routes it there, i.e. one nested spec holds it."""
    hints = typing.get_type_hints(cls)
    nested = [f for f in dataclasses.fields(cls) if isinstance(hints[f.name], type)
              and issubclass(hints[f.name], Spec)]
    out = []
    for f in dataclasses.fields(cls):
        if f in nested:
            if not info(f)["from_run"]:
                inner = flagless(hints[f.name], flagged, path + (f.name,))
                own = {g.name for g in dataclasses.fields(cls)}
                out += [n if len(nested) == 1 and n not in own else f"{f.name}.{n}" for n in inner]
        elif path + (f.name,) not in flagged:
            out.append(f.name)
    return out


def build(cls: type[Spec], values: dict[Path, Any], prefix: Path, base: Spec | None = None) -> Spec:
    """The spec of class `cls` at `prefix` from the given values; the rest at their defaults
    (or at those of `base`)."""
    hints, kwargs, missing = typing.get_type_hints(cls), {}, []
    for f in dataclasses.fields(cls):
        here, hint = prefix + (f.name,), hints[f.name]
        if here in values:
            kwargs[f.name] = values[here]
        elif isinstance(hint, type) and issubclass(hint, Spec) and (
                not has_default(f) or any(p[:len(here)] == here for p in values)):
            kwargs[f.name] = build(hint, values, here, default_of(f) if has_default(f) else None)
        elif not has_default(f) and base is None:
            missing.append(f.name)
    if missing:
        raise TicketlabError(f"A {cls.kind} spec needs {', '.join(missing)}, which has no default: give its flag.")
    return base.replace(**kwargs) if base is not None else cls(**kwargs)


def get(spec: Spec, path: Path) -> Any:
    for name in path:
        spec = getattr(spec, name)
    return spec


def replace_at(spec: Spec, path: Path, value: Any) -> Spec:
    if len(path) == 1:
        return spec.replace(**{path[0]: value})
    return spec.replace(**{path[0]: replace_at(getattr(spec, path[0]), path[1:], value)})
