"""Experiment specifications: frozen, validated, hashable data.

A spec's canonical form is the dict of its fields with defaults left out (so adding a
field with a neutral default keeps old hashes), keys sorted, nested specs canonical
too. Its hash names the run directory: the same spec always lands in the same place,
so finished work is reused and interrupted work resumes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from ..core.errors import SpecError, UnknownNameError


@dataclass(frozen=True)
class Spec:
    """Base of every experiment kind; subclasses set `kind`."""

    kind: ClassVar[str] = ""

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and value == f.default_factory():
                continue
            out[f.name] = value.canonical() if isinstance(value, Spec) else _plain(value)
        return dict(sorted(out.items()))

    def hash(self) -> str:
        text = json.dumps({"kind": self.kind, **self.canonical()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def run_id(self) -> str:
        return f"{self.kind}-{self.hash()}"

    def to_dict(self) -> dict[str, Any]:
        """Every field, defaults included, for display and the index."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, Spec) else _plain(value)
        return out

    def preflight(self) -> None:
        """Checks too costly for construction (they may build a model); run before any work."""

    def sources(self) -> dict[str, "Spec"]:
        """The other runs this spec reads, by name (e.g. the IMP run of a Lottery Pool). The
        orchestrator runs them first and hands their run directories to the method in the
        run context (`RunContext.sources`); none by default."""
        return {}

    def training(self) -> "Spec":
        """The spec of the network this run trains (model, dataset, seed): a method's nested
        `train`, else its source's, else the spec itself."""
        if hasattr(self, "train"):
            return self.train
        if isinstance(getattr(self, "source", None), Spec):
            return self.source.training()
        return self

    def replace(self, **changes) -> "Spec":
        return dataclasses.replace(self, **changes)

    def with_overrides(self, assignments: list[str]) -> "Spec":
        """Apply `key=value` strings (values parsed as YAML scalars)."""
        changes: dict[str, Any] = {}
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                raise SpecError(f"Malformed --set '{item}': write key=value, e.g. --set lr=0.05.")
            changes[key] = yaml.safe_load(raw) if raw.strip() else ""
        return self._apply(changes)

    def _apply(self, changes: dict[str, Any]) -> "Spec":
        """Set fields; `train.lr` sets a nested spec's field, and a plain key that only a nested
        spec has (e.g. `lr` on an IMP spec) goes to that nested spec."""
        own = {f.name for f in dataclasses.fields(self)}
        nested = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), Spec)}
        mine: dict[str, Any] = {}
        inner: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            head, dot, rest = key.partition(".")
            if dot and head in nested:
                inner.setdefault(head, {})[rest] = value
            elif key not in own and len(nested) == 1 and key in {f.name for f in dataclasses.fields(next(iter(nested.values())))}:
                inner.setdefault(next(iter(nested)), {})[key] = value
            else:
                mine[key] = value
        data = {**self.canonical(), **mine}
        for name, sub_changes in inner.items():
            data[name] = nested[name]._apply(sub_changes)
        return spec_from_dict(data, kind=self.kind)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def check(ok: bool, message: str) -> None:
    """Refuse a spec whose value is out of range: `message` says what was given and what is valid."""
    if not ok:
        raise SpecError(message)


SPEC_KINDS: dict[str, type[Spec]] = {}


def register_spec(cls: type[Spec]) -> type[Spec]:
    """Make a spec kind known by its `kind`, so that `ticketlab run CONFIG.yaml` and the
    store find it; the built-in kinds register through this call too (`specs/__init__.py`)."""
    if not cls.kind:
        raise SpecError(f"{cls.__name__} sets no `kind`; a spec kind needs a name, e.g. kind: ClassVar[str] = 'mine'.")
    if cls.kind in SPEC_KINDS and SPEC_KINDS[cls.kind] is not cls:
        raise SpecError(f"The spec kind '{cls.kind}' is registered already (by {SPEC_KINDS[cls.kind].__qualname__}); "
                        f"choose another name. Registered kinds: {', '.join(sorted(SPEC_KINDS))}.")
    SPEC_KINDS[cls.kind] = cls
    return cls


def spec_from_dict(data: dict[str, Any], kind: str | None = None) -> Spec:
    data = dict(data)
    kind = data.pop("kind", None) or kind
    if kind not in SPEC_KINDS:
        raise UnknownNameError("experiment kind", str(kind), sorted(SPEC_KINDS))
    cls = SPEC_KINDS[kind]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(f"Unknown {kind} setting(s) {', '.join(unknown)}. Valid settings: {', '.join(fields)}.")
    values = {name: _coerce(name, value, hints[name]) for name, value in data.items()}
    missing = [n for n, f in fields.items() if n not in values and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise SpecError(f"A {kind} spec needs {', '.join(missing)}.")
    return cls(**values)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Convert YAML/CLI values to the field's declared type, or say what was expected."""
    if isinstance(hint, type) and issubclass(hint, Spec):
        return value if isinstance(value, Spec) else spec_from_dict(value, kind=hint.kind)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = type(None) in typing.get_args(hint)
    if value is None and optional:
        return None
    target = args[0] if args and typing.get_origin(hint) is not tuple else hint
    try:
        if typing.get_origin(target) is tuple or target is tuple:
            item_type = (typing.get_args(target) or (str,))[0]
            items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else [value]
            items = [i.strip() if isinstance(i, str) else i for i in items]
            return tuple(_coerce(name, i, item_type) for i in items if i != "")
        if target is bool:
            if isinstance(value, bool):
                return value
            raise ValueError
        if target is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if target is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if target is str:
            return str(value)
    except (TypeError, ValueError):
        pass
    else:
        return value
    raise SpecError(f"Setting '{name}' expects {getattr(target, '__name__', target)}, got {value!r}.")


def load_spec_file(path: str) -> Spec:
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise SpecError(f"No config file at {path}.") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path} must hold a mapping of settings (with 'kind: train' or another kind).")
    return spec_from_dict(data)

