"""Experiment specifications: frozen, validated, hashable data.

A spec's canonical form is the dict of its fields with defaults left out (so adding a
field with a neutral default keeps old hashes), keys sorted, nested specs canonical
too. Its hash names the run directory: the same spec always lands in the same place,
so finished work is reused and interrupted work resumes.

Because defaults are left out, a run directory's spec means "these fields, the others at
their defaults": change a default and every old run directory of that kind would
silently mean something else. So each kind has a schema `version` (a class attribute,
1 unless the kind sets `version: ClassVar[int] = 2`, ...), and the rule is:

    Bump a kind's `version` whenever a field's default changes, a field's meaning
    changes (what a value does, its unit), a field is removed or renamed, or a field
    is added whose default does not keep what old runs did.

Adding a field whose default keeps old behaviour needs no bump. A change that touches
only some specs of a kind (IMP's random controls under learning-rate rewinding, say)
bumps `version` and overrides `schema_version()`, which gives the version whose meaning
each spec has: the untouched specs keep the older one, and so their run ids and their
finished runs. The canonical form carries a spec's `schema_version()` only when it is
above 1, so the run ids from before versions existed
stay as they are; a bump gives every spec of the kind a new run id, and every spec that
nests it too (the nested canonical form carries its own version). A run directory's
`spec.json` is that canonical form, so it records the version; one without a version
was written under version 1 (a config file or `--set` without one means the current
version). Such an older run stays readable (`ticketlab show`, `runs`) but has no live
spec under the new version and is never reused; so is one made with other versions of the
user's registrations it uses (`uses`, `versions.py`). `tests/specs/test_pinned_defaults.py`
pins every built-in default and version.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import SpecError, TicketlabError, UnknownNameError
from .yaml_text import parse_overrides, shown
from .values import check_values, coerce_value, type_hints
from .versions import SpecVersionError, check_uses, refuse_uses_field, stale_uses, uses_of, values_of, without_uses


@dataclass(frozen=True)
class Spec:
    """Base of every experiment kind; subclasses set `kind`, and `version` once a default
    or a field's meaning changes (see the module docstring)."""

    kind: ClassVar[str] = ""
    version: ClassVar[int] = 1

    # Every spec's fields are checked against their declared types and ranges before its kind's
    # own checks, however it is built, so a range is declared once, on its field: not in
    # `spec_from_dict` (flags, `replace` and Python skip it) nor `register_spec` (a class need not
    # be registered to be built), but in `__post_init__`, which every dataclass `__init__` calls;
    # a kind's own one (not calling this one) is wrapped here as its class is made.
    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is not None:
            @functools.wraps(own)
            def checked(self) -> None:
                check_fields(self)
                own(self)
            cls.__post_init__ = checked

    def __post_init__(self) -> None:
        check_fields(self)

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and value == f.default_factory():
                continue
            out[f.name] = value.canonical() if isinstance(value, Spec) else _plain(value)
        if self.schema_version() > 1:  # version 1 is left out: the run ids from before versions existed stay
            out["version"] = self.schema_version()
        out.update({"uses": self.uses()} if self.uses() else {})  # none for the built-ins: their run ids stay
        return dict(sorted(out.items()))

    @classmethod
    def registrations_in(cls, values: dict[str, Any]) -> tuple:
        """The versioned registrations that settings `values` of this kind name (`versions.py`)."""
        return ()

    def uses(self) -> dict[str, int | str]:
        return uses_of(self.registrations_in(values_of(self)))

    def schema_version(self) -> int:
        """The version of its kind whose meaning this spec's settings have: the kind's
        `version`, unless the kind's latest changes left this spec as it was (see the module
        docstring); such a kind overrides this."""
        return self.version

    def hash(self) -> str:
        text = json.dumps({"kind": self.kind, **self.canonical()}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def run_id(self) -> str:
        return f"{self.kind}-{self.hash()}"

    def to_dict(self) -> dict[str, Any]:
        """Every field, defaults included, for display and the index."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.schema_version() > 1:  # the same rule as the canonical form: no version means 1
            out["version"] = self.schema_version()
        out.update({"uses": self.uses()} if self.uses() else {})
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
        return self.apply(parse_overrides(assignments))

    def apply(self, changes: dict[str, Any]) -> "Spec":
        """Set fields; `train.lr` sets a nested spec's field, and a plain key that only a nested
        spec has (e.g. `lr` on an IMP spec) goes to that nested spec."""
        own = {f.name for f in dataclasses.fields(self)}
        nested = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), Spec)}
        mine: dict[str, Any] = {}
        inner: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            key = self.override_key(key)
            head, dot, rest = key.partition(".")
            if dot and head in nested:
                inner.setdefault(head, {})[rest] = value
            elif key not in own and len(nested) == 1 and key in {f.name for f in dataclasses.fields(next(iter(nested.values())))}:
                inner.setdefault(next(iter(nested)), {})[key] = value
            else:
                mine[key] = value
        data = {**{k: v for k, v in self.canonical().items() if k != "uses"}, **mine}  # the fields give it
        for name, sub_changes in inner.items():
            data[name] = nested[name].apply(sub_changes)
        return spec_from_dict(data, kind=self.kind)

    @classmethod
    def override_key(cls, key: str) -> str:
        """An override's key as this kind names it: on a spec that is its own training (a
        train spec), `train.lr`, as every other method's command spells it, is `lr`."""
        head, dot, rest = key.partition(".")
        names = {f.name for f in dataclasses.fields(cls)}
        if dot and head == "train" and not names & {"train", "source"} and not hasattr(cls, "train"):
            return rest
        return key


def check_fields(spec: Spec) -> None:
    """A spec's field values against their declared types and ranges (`values.py`), and each
    nested spec of its declared kind."""
    check_values(spec)
    hints = type_hints(type(spec))
    for f in dataclasses.fields(spec):
        hint, value = hints.get(f.name), getattr(spec, f.name)
        if isinstance(hint, type) and issubclass(hint, Spec) and not isinstance(value, hint):
            given = f"a {value.kind} spec" if isinstance(value, Spec) else repr(value)
            raise SpecError(f"{f.name} must be a {hint.kind} spec, got {given}.")


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
    refuse_uses_field(cls)
    if "version" in {f.name for f in dataclasses.fields(cls)} or type(cls.version) is not int or cls.version < 1:
        raise SpecError(f"{cls.__name__}.version must be a whole number >= 1 declared as a class attribute "
                        f"(version: ClassVar[int] = 2), got {cls.version!r}.")
    if cls.kind in SPEC_KINDS and SPEC_KINDS[cls.kind] is not cls:
        raise SpecError(f"The spec kind '{cls.kind}' is registered already (by {SPEC_KINDS[cls.kind].__qualname__}); "
                        f"choose another name. Registered kinds: {', '.join(sorted(SPEC_KINDS))}.")
    SPEC_KINDS[cls.kind] = cls
    return cls


def spec_from_dict(data: dict[str, Any], kind: str | None = None) -> Spec:
    """The spec `data` describes. A `version` in it must be its kind's current one; none means
    the current one too (a config file or the command line). A stored dict, where none means
    version 1, is checked first with `version_note`. So is `uses`, which must be what is registered now."""
    if not isinstance(data, dict):
        raise SpecError(f"A spec is a mapping of settings (with 'kind: train' or another kind), got {data!r}.")
    data = dict(data)
    kind = data.pop("kind", None) or kind
    if not isinstance(kind, str) or kind not in SPEC_KINDS:
        raise UnknownNameError("experiment kind", shown(kind), sorted(SPEC_KINDS))
    cls = SPEC_KINDS[kind]
    written, written_uses = data.pop("version", None), data.pop("uses", None)
    if written is not None and type(written) is not int:
        raise SpecError(f"A {kind} spec's version is a whole number (the current one is {cls.version}), "
                        f"got {written!r}.")
    if written is not None and written > cls.version:
        raise SpecVersionError(kind, written, cls.version)
    hints = type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted((shown(k) for k in data if k not in fields))
    if unknown:
        raise SpecError(f"Unknown {kind} setting(s) {', '.join(unknown)}. Valid settings: {', '.join(fields)}.")
    values = {name: _coerce(name, value, hints.get(name)) for name, value in data.items()}
    missing = [n for n, f in fields.items() if n not in values and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise SpecError(f"A {kind} spec needs {', '.join(missing)}.")
    spec = cls(**values)
    if written is not None and written != spec.schema_version():
        raise SpecVersionError(kind, written, spec.schema_version())
    check_uses(kind, written_uses, spec.uses())
    return spec


def version_note(data: dict[str, Any], kind: str | None = None) -> str | None:
    """For a stored spec dict (a run directory's, or the index's, where no `version` means 1):
    which of its kinds, nested ones included, it was written under another version of than
    the current one, as a sentence; None when every version is current or a kind is unknown."""
    parts = [f"{f'its {where} spec was ' if where else ''}written under version {written} of the {stale} kind, "
             f"the current being {current}" for where, stale, written, current in _stale_versions(data, kind, "")]
    parts += stale_uses(data, kind, SPEC_KINDS)  # made with other versions of the user's registrations
    return "; ".join(parts) or None


def _stale_versions(data: Any, kind: str | None, where: str) -> list[tuple[str, str, Any, int]]:
    """(where, kind, written version, current version) of each stale part, outermost first."""
    if not isinstance(data, dict) or (data.get("kind") or kind) not in SPEC_KINDS:
        return []
    cls = SPEC_KINDS[data.get("kind") or kind]
    written, current = data.get("version", 1), _current_version(cls, data)
    out = [(where, cls.kind, written, current)] if written != current else []
    hints = typing.get_type_hints(cls)
    for name, value in data.items():
        hint = hints.get(name)
        if isinstance(hint, type) and issubclass(hint, Spec):
            out += _stale_versions(value, hint.kind, f"{where}.{name}" if where else name)
    return out


def _current_version(cls: type[Spec], data: dict[str, Any]) -> int:
    """The version these stored settings would have if written now: the spec's own
    `schema_version()` (a kind's change may leave some of its specs as they were), or the
    kind's version when they no longer make a spec."""
    try:
        return spec_from_dict({k: v for k, v in without_uses(data).items() if k != "version"}, cls.kind).schema_version()
    except TicketlabError:
        return cls.version


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Convert YAML/CLI values to the field's declared type, or say what was expected."""
    if isinstance(hint, type) and issubclass(hint, Spec):
        if isinstance(value, hint):
            return value
        if not isinstance(value, dict):
            raise SpecError(f"Setting '{name}' is a nested {hint.kind} spec: give its fields (e.g. --set "
                            f"{name}.FIELD=VALUE, or a mapping under '{name}:' in a config file), not {value!r}.")
        if (value.get("kind") or hint.kind) != hint.kind:
            raise SpecError(f"Setting '{name}' is a nested {hint.kind} spec, so its kind is {hint.kind} (or left "
                            f"out), not {value['kind']!r}.")
        return spec_from_dict(value, kind=hint.kind)
    return coerce_value(name, value, hint)
