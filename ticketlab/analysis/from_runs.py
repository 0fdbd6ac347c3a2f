"""Points for reports, read from finished runs (their `result.json`), grouped by setting.

Runs with the same training setting (seed aside) form one group, so a report shows mean
and spread over seeds, and IMP with its controls beside the baselines. The group's label
names model and dataset; where two training settings would get the same label, a short
hash of the setting tells them apart.
"""
from __future__ import annotations

import hashlib
import json

from ..core.errors import TicketlabError
from ..store import RunDir
from ..methods import method_of, methods_with
from .points import Point


def _training_key(run: RunDir) -> str:
    """The training setting without its seed: runs that share it share a plot."""
    train = dict(run.spec.training().to_dict())
    train.pop("seed", None)
    return hashlib.sha256(json.dumps(train, sort_keys=True).encode()).hexdigest()[:6]


def describe(run: RunDir) -> str:
    train = run.spec.training()
    return f"{train.model} on {train.dataset}"


def run_points(run: RunDir, metric: str = "test_accuracy", suffix: str = "") -> list[Point]:
    """The points a finished run declares through its method (one per IMP level and
    control, one for a pai/dst run, one dense point for a training run). `suffix` tells
    apart several settings of one method in a group."""
    if not run.finished:
        raise TicketlabError(f"{run.run_id} has not finished ({run.status()}); run it to the end before reporting.")
    method = method_of(run.spec.kind)
    if not method.has("points"):
        raise TicketlabError(f"ticketlab report reads {', '.join(methods_with('points'))} runs; {run.run_id} is a "
                             f"{run.spec.kind} run.")
    return method.call("points", run, metric, suffix)


def _variant(run: RunDir) -> str | None:
    """The method's own setting (IMP's scope, rate and rewinding), where it declares one."""
    method = method_of(run.spec.kind)
    return method.call("variant", run.spec) if method.has("variant") else None


def report_points(runs: list[RunDir], metric: str = "test_accuracy") -> list[Point]:
    """Points of all runs. Runs with the same training setting (seed aside) form one group,
    so IMP, its controls and the baselines share one table and plot; where a group holds
    several settings of one method (IMP's), their points carry the setting in brackets."""
    labels: dict[str, set[str]] = {}
    variants: dict[tuple[str, str], set[str]] = {}  # by training setting and method kind
    for run in runs:
        labels.setdefault(describe(run), set()).add(_training_key(run))
        if _variant(run) is not None:
            variants.setdefault((_training_key(run), run.spec.kind), set()).add(_variant(run))
    points = []
    for run in runs:
        label, key = describe(run), _training_key(run)
        if len(labels[label]) > 1:
            label += f" [{key}]"
        variant = _variant(run)
        suffix = f" [{variant}]" if variant is not None and len(variants[key, run.spec.kind]) > 1 else ""
        points += [Point(p.method, p.density, p.value, p.seed, p.level, label)
                   for p in run_points(run, metric, suffix)]
    return points
