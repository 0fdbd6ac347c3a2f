"""Benchmark suites: YAML files naming settings, methods, densities and seeds.

    name: cpu
    description: one line shown by `ticketlab bench --list` and on the page
    densities: [0.2, 0.05, 0.02]     # fractions of prunable weights kept
    seeds: [0, 1, 2]
    settings:                        # a training spec each: model, dataset, duration, ...
      - train: {model: lenet_300_100, dataset: fashion_mnist, duration: 3ep}
    methods:
      - name: imp                    # unique within the suite
        kind: imp                    # any registered spec kind
        spec: {levels: 17, prune_fraction: 0.2055}   # the kind's own settings
        train: {}                    # optional: overrides of the setting's training
        curves: [imp]                # optional: which of the run's curves to rank (default: all)
        rename: {imp: imp_init}      # optional: a curve's name on the page
        only: [fashion_mnist/lenet5] # optional: the settings it runs on (default: all)
      - name: pools
        kind: pools
        source: imp                  # a kind that reads a run (its `source`) reads this method's run
        spec: {targets: [7, 13, 17]}

A kind whose spec has a `density` field runs once per density; any other kind (IMP and
what reads IMP) runs once per seed and each target density takes the curve's point
nearest to it (`expand.py`). The built-in suites live beside this module
(`suites/*.yaml`); a user's suite is any file in the same form.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import SpecError

SUITES_DIR = Path(__file__).parent / "suites"
_SUITE_KEYS = ("name", "description", "densities", "seeds", "settings", "methods", "published")
_PUBLISHED_KEYS = ("setting", "method", "density", "test_accuracy", "source")
_SETTING_KEYS = ("name", "train")
_METHOD_KEYS = ("name", "kind", "spec", "train", "curves", "rename", "only", "source")


@dataclass(frozen=True)
class Setting:
    name: str                      # dataset/model unless given
    train: dict[str, Any]


@dataclass(frozen=True)
class MethodEntry:
    name: str
    kind: str
    spec: dict[str, Any]
    train: dict[str, Any]
    curves: tuple[str, ...]        # empty: every curve the run reports
    rename: dict[str, str]
    only: tuple[str, ...]          # empty: every setting
    source: str = ""               # the method whose run (same setting and seed) this one reads

    def runs_on(self, setting: Setting) -> bool:
        return not self.only or setting.name in self.only


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    densities: tuple[float, ...]
    seeds: tuple[int, ...]
    settings: tuple[Setting, ...]
    methods: tuple[MethodEntry, ...]
    digest: str                    # of the file's content as parsed: a changed suite is told apart
    published: tuple[dict, ...] = ()   # the papers' own numbers, each with its source

    def with_seeds(self, seeds: tuple[int, ...]) -> "Suite":
        return dataclasses.replace(self, seeds=tuple(seeds))


def builtin_suites() -> dict[str, Path]:
    return {path.stem: path for path in sorted(SUITES_DIR.glob("*.yaml"))}


def find_suite(name_or_path: str) -> Path:
    """A built-in suite's name, or the path of a suite file."""
    suites = builtin_suites()
    if name_or_path in suites:
        return suites[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    raise SpecError(f"No benchmark suite '{name_or_path}': give a built-in suite ({', '.join(suites)}; "
                    "`ticketlab bench --list` describes them) or the path of a suite file (.yaml).")


def load_suite(name_or_path: str) -> Suite:
    path = find_suite(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{path} is not valid YAML: {err}") from None
    return suite_from_dict(data, where=str(path))


def suite_from_dict(data: Any, where: str = "the suite") -> Suite:
    _mapping(data, where, _SUITE_KEYS, required=("name", "densities", "seeds", "settings", "methods"))
    name = _text(data["name"], f"{where}: name")
    densities = tuple(_density(d, where) for d in _list(data["densities"], f"{where}: densities"))
    if len(set(densities)) != len(densities):
        raise SpecError(f"{where}: densities {list(densities)} repeat a value; give each density once.")
    seeds = tuple(_seed(s, where) for s in _list(data["seeds"], f"{where}: seeds"))
    if len(set(seeds)) != len(seeds):
        raise SpecError(f"{where}: seeds {list(seeds)} repeat a value; give each seed once.")
    settings = tuple(_setting(s, f"{where}: settings[{i}]") for i, s in enumerate(_list(data["settings"],
                                                                                          f"{where}: settings")))
    _unique([s.name for s in settings], f"{where}: settings", "give one a `name`")
    methods = tuple(_method(m, f"{where}: methods[{i}]") for i, m in enumerate(_list(data["methods"],
                                                                                      f"{where}: methods")))
    _unique([m.name for m in methods], f"{where}: methods", "give each its own `name`")
    known, names = {s.name for s in settings}, [m.name for m in methods]
    for method in methods:
        for other in method.only:
            if other not in known:
                raise SpecError(f"{where}: method '{method.name}' has only: {other!r}, which is no setting of the "
                                f"suite; its settings are {', '.join(sorted(known))}.")
        if method.source and method.source not in names[:names.index(method.name)]:
            raise SpecError(f"{where}: method '{method.name}' reads source: {method.source!r}, which is no method "
                            f"listed before it; methods before it: {', '.join(names[:names.index(method.name)]) or 'none'}.")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    published = tuple(_published(p, f"{where}: published[{i}]", known)
                      for i, p in enumerate(_list(data.get("published") or [], where, empty=True)))
    return Suite(name, str(data.get("description", "")), densities, seeds, settings, methods, digest, published)


def _published(data: Any, where: str, settings: set[str]) -> dict:
    """A paper's number: setting, method, density, test accuracy (fractions) and its source."""
    _mapping(data, where, _PUBLISHED_KEYS, required=_PUBLISHED_KEYS)
    if data["setting"] not in settings:
        raise SpecError(f"{where}: setting {data['setting']!r} is no setting of the suite; its settings are "
                        f"{', '.join(sorted(settings))}.")
    for key in ("density", "test_accuracy"):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise SpecError(f"{where}: {key} {value!r} must be a fraction in (0, 1], e.g. 0.9337 for 93.37%.")
    return {"setting": data["setting"], "method": _text(data["method"], f"{where}: method"),
            "density": float(data["density"]), "test_accuracy": float(data["test_accuracy"]),
            "source": _text(data["source"], f"{where}: source")}


def _setting(data: Any, where: str) -> Setting:
    _mapping(data, where, _SETTING_KEYS, required=("train",))
    train = _dict(data["train"], f"{where}: train")
    for key in ("model", "dataset"):
        if key not in train:
            raise SpecError(f"{where}: train needs '{key}', e.g. train: {{model: lenet_300_100, "
                            "dataset: fashion_mnist}.")
    if "seed" in train:
        raise SpecError(f"{where}: train sets seed {train['seed']!r}; a suite's seeds are its `seeds` list.")
    name = data.get("name") or f"{train['dataset']}/{train['model']}"
    return Setting(_text(name, f"{where}: name"), train)


def _method(data: Any, where: str) -> MethodEntry:
    _mapping(data, where, _METHOD_KEYS, required=("name", "kind"))
    from ..specs import SPEC_KINDS
    kind = _text(data["kind"], f"{where}: kind")
    from ..methods import METHODS
    ranked = sorted(k for k, m in METHODS.items() if k != "train" and m.has("points"))
    if kind not in ranked:
        raise SpecError(f"{where}: kind {kind!r} is not a method whose runs give points to rank; valid kinds: "
                        f"{', '.join(ranked)} (the dense network comes from IMP's level 0).")
    spec = _dict(data.get("spec") or {}, f"{where}: spec")
    for key in ("kind", "train", "density"):
        if key in spec:
            raise SpecError(f"{where}: spec sets '{key}', which the suite gives: the kind above, the setting's "
                            "train (override it with the method's `train:`), the suite's densities.")
    rename = _dict(data.get("rename") or {}, f"{where}: rename")
    return MethodEntry(name=_text(data["name"], f"{where}: name"), kind=kind, spec=spec,
                       train=_dict(data.get("train") or {}, f"{where}: train"),
                       curves=tuple(_text(c, f"{where}: curves") for c in _list(data.get("curves") or [], where,
                                                                                empty=True)),
                       rename={str(k): _text(v, f"{where}: rename") for k, v in rename.items()},
                       only=tuple(_text(s, f"{where}: only") for s in _list(data.get("only") or [], where,
                                                                            empty=True)),
                       source=_text(data["source"], f"{where}: source") if "source" in data else "")


def _mapping(data: Any, where: str, keys: tuple[str, ...], required: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a mapping with {', '.join(required)}, got {data!r}.")
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(keys)}.")
    missing = [k for k in required if k not in data]
    if missing:
        raise SpecError(f"{where} needs {', '.join(missing)}.")


def _list(value: Any, where: str, empty: bool = False) -> list:
    if not isinstance(value, list) or (not value and not empty):
        raise SpecError(f"{where} must be a non-empty list, got {value!r}.")
    return value


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where} must be a mapping of settings, got {value!r}.")
    return {str(k): v for k, v in value.items()}


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise SpecError(f"{where} must be a non-empty line of text, got {value!r}.")
    return value


def _density(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise SpecError(f"{where}: density {value!r} is not a fraction of weights kept in (0, 1), e.g. 0.05.")
    return float(value)


def _seed(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{where}: seed {value!r} is not a whole number >= 0.")
    return value


def _unique(names: list[str], where: str, fix: str) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecError(f"{where}: the name(s) {', '.join(repeated)} appear more than once; {fix}.")
