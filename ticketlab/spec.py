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

from .errors import SpecError, UnknownNameError
from .train.duration import Duration
from .train.optim import OPTIMIZERS
from .train.schedule import SCHEDULES


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


@dataclass(frozen=True)
class TrainSpec(Spec):
    """Train one (optionally masked) network: the unit every method composes."""

    kind: ClassVar[str] = "train"
    model: str
    dataset: str
    seed: int = 0
    duration: str = "10ep"
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"
    milestones: tuple[str, ...] = ()
    gamma: float = 0.1
    warmup: str = "0it"
    augment: bool | None = None  # None: the dataset's sensible default
    val_size: int = 0
    eval_every: str = "1ep"
    data_seed: int | None = None  # data order and augmentation; None: same as seed

    def __post_init__(self) -> None:
        from .data import DATASET_NAMES
        from .models import MODEL_PATTERNS, is_valid_model_name

        if not is_valid_model_name(self.model):
            raise UnknownNameError("model", self.model, MODEL_PATTERNS)
        if self.dataset not in DATASET_NAMES:
            raise UnknownNameError("dataset", self.dataset, DATASET_NAMES)
        if self.optimizer not in OPTIMIZERS:
            raise UnknownNameError("optimizer", self.optimizer, OPTIMIZERS)
        if self.schedule not in SCHEDULES:
            raise UnknownNameError("schedule", self.schedule, SCHEDULES)
        for text in (self.duration, self.warmup, self.eval_every, *self.milestones):
            Duration.parse(text)
        if Duration.parse(self.duration).amount <= 0:
            raise SpecError(f"duration must be positive, got '{self.duration}'.")
        if Duration.parse(self.eval_every).amount <= 0:
            raise SpecError(f"eval_every must be positive, got '{self.eval_every}'.")
        _check(self.batch_size > 0, f"batch_size must be positive, got {self.batch_size}.")
        _check(self.lr > 0, f"lr must be positive, got {self.lr}.")
        _check(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}.")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        _check(self.val_size >= 0, f"val_size must be >= 0, got {self.val_size}.")

    def preflight(self) -> None:
        """Refuse a model that does not fit the dataset before any directory or training exists."""
        import torch

        from .data import dataset_info
        from .models import build_model

        info = dataset_info(self.dataset)
        with torch.device("meta"):  # shapes only: no memory, no initialization cost
            build_model(self.model, info.input_shape, info.num_classes)

    @property
    def steps_per_epoch(self) -> int:
        """From the dataset's registered size: known before any data is loaded."""
        from .data import dataset_info

        return -(-(dataset_info(self.dataset).train_size - self.val_size) // self.batch_size)

    def steps(self, duration: str) -> int:
        return Duration.parse(duration).steps(self.steps_per_epoch)

    @property
    def order_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise SpecError(message)


SPEC_KINDS: dict[str, type[Spec]] = {"train": TrainSpec}


def register_spec(cls: type[Spec]) -> type[Spec]:
    """Methods register their spec kinds here, so `ticketlab run CONFIG.yaml` finds them."""
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


# The methods' specs live beside this module and register themselves here on import.
from .imp_spec import IMP_CONTROLS, ImpSpec, LmcSpec, Rewind  # noqa: E402,F401
from .baseline_specs import DST_METHODS, PAI_METHODS, DstSpec, PaiSpec, RstSpec  # noqa: E402,F401
from .derived_specs import ELASTIC_CONTROLS, POOL_VARIANTS, ElasticSpec, PoolSpec  # noqa: E402,F401
from .rtl_spec import RtlSpec  # noqa: E402,F401
from .rtl_spec import InrSpec  # noqa: E402,F401
