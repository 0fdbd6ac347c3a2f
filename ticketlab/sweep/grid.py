"""Sweep files: a base experiment and axes, expanded to one spec per combination.

    base:                      # a spec, as in a `ticketlab run` config (or a path to one)
      kind: imp
      train: {model: lenet_300_100, dataset: fashion_mnist, duration: 4ep}
      levels: 5
    axes:                      # any spec field; `train.seed` or plain `seed` reach the nested spec
      seed: [0, 1, 2]
      prune_fraction: [0.2, 0.4]
    retries: 2                 # optional: attempts after the first before a run is marked failed

Axes combine as a Cartesian product, in file order. Every spec is built (and so
validated) when the file is read, so a bad axis fails before any run starts.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import SpecError
from ..specs import Spec, spec_from_dict

_KEYS = ("base", "axes", "retries")


@dataclass(frozen=True)
class Sweep:
    base: Spec
    axes: tuple[tuple[str, tuple], ...]
    retries: int = 2

    def points(self) -> list[tuple[dict[str, Any], Spec]]:
        """(axis values, spec) per combination; combinations giving the same run appear once."""
        names = [name for name, _ in self.axes]
        seen, out = set(), []
        for values in itertools.product(*(values for _, values in self.axes)):
            point = dict(zip(names, values))
            spec = _with(self.base, point)
            if spec.run_id not in seen:
                seen.add(spec.run_id)
                out.append((point, spec))
        return out

    def specs(self) -> list[Spec]:
        return [spec for _, spec in self.points()]


def _with(base: Spec, point: dict[str, Any]) -> Spec:
    try:
        return base.apply(dict(point))
    except SpecError as err:
        where = ", ".join(f"{k}={v!r}" for k, v in point.items())
        raise SpecError(f"Sweep point ({where}): {err}") from None


def sweep_from_dict(data: Any, where: str = "the sweep", folder: Path | None = None) -> Sweep:
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a mapping with 'base' and 'axes'.")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; a sweep has {', '.join(_KEYS)}.")
    if "base" not in data:
        raise SpecError(f"{where} needs 'base': the experiment every point starts from "
                        "(a spec mapping with 'kind', or the path of a config file).")
    base = _base(data["base"], where, folder)
    axes_data = data.get("axes") or {}
    if not isinstance(axes_data, dict) or not axes_data:
        raise SpecError(f"{where} needs 'axes': a mapping of spec fields to lists of values, "
                        "e.g. axes: {{seed: [0, 1, 2]}}.")
    axes = []
    for name, values in axes_data.items():
        if not isinstance(values, list):
            raise SpecError(f"{where}: axis '{name}' must be a list of values, e.g. {name}: [{values!r}].")
        if not values:
            raise SpecError(f"{where}: axis '{name}' is empty; give it at least one value or remove it.")
        _check_axis(base, str(name), values[0], where)
        axes.append((str(name), tuple(values)))
    retries = data.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SpecError(f"{where}: retries must be a whole number >= 0, got {retries!r}.")
    sweep = Sweep(base=base, axes=tuple(axes), retries=retries)
    sweep.points()  # build every spec now: an impossible combination fails before any run
    return sweep


def _check_axis(base: Spec, name: str, value: Any, where: str) -> None:
    """An axis must name a field of the base spec (or of its nested training spec)."""
    try:
        base.apply({name: value})
    except SpecError as err:
        if "Unknown" in str(err):
            raise SpecError(f"{where}: axis '{name}' is not a field of a {base.kind} spec. {err}") from None
        raise SpecError(f"{where}: axis '{name}': {err}") from None


def _base(value: Any, where: str, folder: Path | None) -> Spec:
    if isinstance(value, str):
        from ..specs import load_spec_file
        path = Path(value)
        if not path.is_absolute() and folder is not None:
            path = folder / path
        return load_spec_file(os.fspath(path))
    if isinstance(value, dict):
        try:
            return spec_from_dict(value)
        except SpecError as err:
            raise SpecError(f"{where}: base: {err}") from None
    raise SpecError(f"{where}: base must be a spec mapping or a config file path, got {value!r}.")


def load_sweep(path: str | os.PathLike) -> Sweep:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"No sweep file at {path}.") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path} is not valid YAML: {err}") from None
    return sweep_from_dict(data, where=str(path), folder=path.parent)
