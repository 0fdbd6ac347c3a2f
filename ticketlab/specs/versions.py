"""The versions a spec is made under: its kind's (`Spec.version`, specs/base.py) and those of
the user's registrations it uses.

The user's own models, datasets and losses are code that no spec field describes, so each
registration carries a version (`core/registry.py`). A spec that uses one records it in
its canonical form as `uses`, {"dataset:my_data": 2, "model:my_cnn": 1, ...} (a kind
names its registrations through `Spec.registrations_in`), and only when there is one, so
the built-ins' run ids stay. Bumping a registration's version gives every spec using it
a new run id. A stored spec whose `uses` differs from what is registered now is read
like one of an older version of its kind: shown with a note, never reused.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ..core.errors import SpecError
from ..core.registry import Registered


class SpecVersionError(SpecError):
    """A spec dict written under another version of its kind than the current one."""

    def __init__(self, kind: str, written: int, current: int):
        self.kind, self.written, self.current = kind, written, current
        super().__init__(f"This {kind} spec says version {written}, but the {kind} kind is at version {current}: "
                         "a default or a field's meaning has changed between the two, so it cannot be read as a "
                         f"{kind} spec now. Leave `version` out to mean the current version, and check the "
                         "settings against its defaults.")


class UsesVersionError(SpecError):
    """A spec dict that records other versions of the registrations it uses than those of now."""

    def __init__(self, kind: str, written: dict, current: dict):
        self.kind, self.written, self.current = kind, written, current
        super().__init__(f"This {kind} spec was made with {'; '.join(uses_changes(written, current))}: a run made "
                         "with another version of a registration is never reused for it. Leave `uses` out to mean "
                         "the registrations of now (loaded with --plugins or $TICKETLAB_PLUGINS).")


def refuse_uses_field(cls: type) -> None:
    if "uses" in {f.name for f in dataclasses.fields(cls)}:
        raise SpecError(f"{cls.__name__} has a field named 'uses', which the canonical form keeps for the versions of "
                        "the registrations a spec uses; rename the field.")


def uses_of(registrations) -> dict[str, int | str]:
    """The `uses` of a canonical form: {key: version}, sorted."""
    return dict(sorted((r.key, r.version) for r in registrations))


def check_uses(kind: str, written: Any, current: dict) -> None:
    """A spec dict's `uses` (None: left out, meaning those of now) against `current`."""
    if written is None:
        return
    if not isinstance(written, dict) or not all(isinstance(key, str) for key in written):
        raise SpecError(f"A {kind} spec's `uses` maps registrations to their versions, e.g. "
                        f"{{'dataset:my_data': 2}} (or is left out), got {written!r}.")
    if dict(written) != current:
        raise UsesVersionError(kind, dict(written), current)


def uses_changes(written: dict, current: dict) -> list[str]:
    """One phrase per registration whose version differs between `written` and `current`."""
    out = []
    for key in sorted(set(written) | set(current), key=str):
        was, now = written.get(key), current.get(key)
        if was == now:
            continue
        table, _, name = str(key).partition(":")
        if was is None:
            out.append(f"no version of the {table} '{name}' registration, which has version {now!r} now")
        elif now is None:
            out.append(f"version {was!r} of the {table} '{name}' registration, which has no version in this process "
                       "(is its plugin loaded? --plugins FILE or $TICKETLAB_PLUGINS)")
        else:
            out.append(f"version {was!r} of the {table} '{name}' registration, which has version {now!r} now")
    return out


def _is_spec_class(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint) and hasattr(hint, "registrations_in")


def values_of(spec) -> dict[str, Any]:
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}


def registrations_of(spec) -> dict[str, Registered]:
    """Every versioned registration `spec` uses, its nested specs' included, by key: what a
    run records the fingerprints of (`api/lifecycle.py`)."""
    out = {r.key: r for r in spec.registrations_in(values_of(spec))}
    for value in values_of(spec).values():
        if _is_spec_class(type(value)):
            out.update(registrations_of(value))
    return dict(sorted(out.items()))


def stale_uses(data: Any, kind: str | None, kinds: dict[str, type]) -> list[str]:
    """A phrase for each part of a stored spec dict whose `uses` (none: no versions) differs
    from what its settings' registrations have now, outermost first (for `version_note`);
    `kinds` are the spec classes by kind."""
    if not isinstance(data, dict) or (data.get("kind") or kind) not in kinds:
        return []
    return [f"{f'its {where} spec was' if where else 'it was'} made with {'; '.join(changes)}"
            for where, changes in _stale_uses(data, kinds[data.get("kind") or kind], "")]


def _stale_uses(data: Any, cls: type, where: str) -> list[tuple[str, list[str]]]:
    if not isinstance(data, dict):
        return []
    written = data.get("uses") if isinstance(data.get("uses"), dict) else {}
    changes = uses_changes(written, uses_of(cls.registrations_in(data)))
    out = [(where, changes)] if changes else []
    for name, hint in typing.get_type_hints(cls).items():
        if name in data and _is_spec_class(hint):
            out += _stale_uses(data[name], hint, f"{where}.{name}" if where else name)
    return out


def without_uses(data: Any) -> Any:
    """A stored spec dict without `uses` at any depth (what its versions are is told apart)."""
    if not isinstance(data, dict):
        return data
    return {key: without_uses(value) for key, value in data.items() if key != "uses"}
