"""Points for reports, read from finished runs (their `result.json`), grouped by setting.

Runs that differ only in their seed form one group, so a report shows mean and spread
over seeds. The group's label says what was run; where two different settings would
get the same label, a short hash of the setting (spec without seed) tells them apart.
"""
from __future__ import annotations

import hashlib
import json

from ..errors import TicketlabError
from ..store import RunDir
from .points import Point


def _without_seed(spec: dict) -> dict:
    inner = dict(spec.get("train", spec))
    inner.pop("seed", None)
    return {**spec, "train": inner} if "train" in spec else inner


def setting_key(run: RunDir) -> str:
    text = json.dumps(_without_seed(run.spec.to_dict()), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def describe(run: RunDir) -> str:
    spec = run.spec
    train = getattr(spec, "train", spec)
    label = f"{train.model} on {train.dataset}"
    if spec.kind == "imp":
        label += f", {spec.scope} {spec.prune_fraction:g}/level, rewind {spec.rewind}"
    return label


def run_points(run: RunDir, metric: str = "test_accuracy") -> list[Point]:
    """One point per level and control of an IMP run, or one dense point for a training run."""
    if not run.finished:
        raise TicketlabError(f"{run.run_id} has not finished ({run.status()}); run it to the end before reporting.")
    result = run.result()
    train = getattr(run.spec, "train", run.spec)
    if run.spec.kind == "train":
        return [Point("dense", 1.0, _metric(result["metrics"], metric, run), train.seed)]
    if run.spec.kind != "imp":
        raise TicketlabError(f"ticketlab report reads imp and train runs; {run.run_id} is a {run.spec.kind} run.")
    points = []
    for level in result["levels"]:
        points.append(Point("imp", level["density"], _metric(level, metric, run), train.seed, level["level"]))
        for name, control in level.get("controls", {}).items():
            points.append(Point(name, control["density"], _metric(control, metric, run), train.seed, level["level"]))
    return points


def _metric(record: dict, metric: str, run: RunDir) -> float:
    if metric not in record:
        raise TicketlabError(f"{run.run_id} has no '{metric}' (it has: {', '.join(sorted(k for k, v in record.items() if isinstance(v, float)))}).")
    return record[metric]


def report_points(runs: list[RunDir], metric: str = "test_accuracy") -> list[Point]:
    """Points of all runs, each labelled with its group (setting without seed)."""
    labels: dict[str, set[str]] = {}
    for run in runs:
        labels.setdefault(describe(run), set()).add(setting_key(run))
    points = []
    for run in runs:
        label = describe(run)
        if len(labels[label]) > 1:
            label += f" [{setting_key(run)}]"
        points += [Point(p.method, p.density, p.value, p.seed, p.level, label) for p in run_points(run, metric)]
    return points
