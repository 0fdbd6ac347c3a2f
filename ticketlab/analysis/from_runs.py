"""Points for reports, read from finished runs (their `result.json`), grouped by setting.

Runs with the same training setting (seed aside) form one group, so a report shows mean
and spread over seeds, and IMP with its controls beside the baselines. The group's label
names model and dataset; where two training settings would get the same label, a short
hash of the setting tells them apart.
"""
from __future__ import annotations

import hashlib
import json

from ..errors import TicketlabError
from ..store import RunDir
from .points import Point


def _train_of(spec):
    """The training spec a method's spec holds (lmc holds it through its IMP source)."""
    if hasattr(spec, "train"):
        return spec.train
    return _train_of(spec.source) if hasattr(spec, "source") else spec


def _training_key(run: RunDir) -> str:
    """The training setting without its seed: runs that share it share a plot."""
    train = dict(_train_of(run.spec).to_dict())
    train.pop("seed", None)
    return hashlib.sha256(json.dumps(train, sort_keys=True).encode()).hexdigest()[:6]


def describe(run: RunDir) -> str:
    train = _train_of(run.spec)
    return f"{train.model} on {train.dataset}"


def imp_variant(spec) -> str:
    return f"{spec.scope} {spec.prune_fraction:g}/level, rewind {spec.rewind}"


def run_points(run: RunDir, metric: str = "test_accuracy", suffix: str = "") -> list[Point]:
    """One point per level and control of an IMP run, one for a pai/dst run, one dense point
    for a training run. `suffix` tells apart several IMP settings in one group."""
    if not run.finished:
        raise TicketlabError(f"{run.run_id} has not finished ({run.status()}); run it to the end before reporting.")
    result = run.result()
    spec = run.spec
    train = _train_of(spec)
    if spec.kind == "train":
        return [Point("dense", 1.0, _metric(result["metrics"], metric, run), train.seed)]
    if spec.kind in ("pai", "dst"):
        # PaI's random masks are named apart from IMP's random control (a shuffled ticket).
        method = "random_init" if spec.method == "random" else spec.method
        return [Point(method, result["metrics"]["density"], _metric(result["metrics"], metric, run), train.seed)]
    if spec.kind == "rst":
        density, seed = result["metrics"]["density"], train.seed
        return [Point("rst", density, _metric(result["finetune"], metric, run), seed),
                Point("rst_scratch", density, _metric(result["scratch"], metric, run), seed)]
    if spec.kind == "elastic":
        name = "elastic_shuffled" if spec.shuffle_replicas else "elastic"
        points = [Point(name, result["ticket"]["density"], _metric(result["ticket"], metric, run), train.seed)]
        return points + [Point(f"elastic_{c}", r["density"], _metric(r, metric, run), train.seed)
                         for c, r in result["controls"].items()]
    if spec.kind != "imp":
        raise TicketlabError(f"ticketlab report reads imp, pai, dst, rst, elastic and train runs; {run.run_id} is a "
                             f"{spec.kind} run.")
    points = []
    for level in result["levels"]:
        points.append(Point("imp" + suffix, level["density"], _metric(level, metric, run), train.seed, level["level"]))
        for name, control in level.get("controls", {}).items():
            points.append(Point(name + suffix, control["density"], _metric(control, metric, run), train.seed,
                                level["level"]))
    return points


def _metric(record: dict, metric: str, run: RunDir) -> float:
    if metric not in record:
        raise TicketlabError(f"{run.run_id} has no '{metric}' (it has: {', '.join(sorted(k for k, v in record.items() if isinstance(v, float)))}).")
    return record[metric]


def report_points(runs: list[RunDir], metric: str = "test_accuracy") -> list[Point]:
    """Points of all runs. Runs with the same training setting (seed aside) form one group,
    so IMP, its controls and the baselines share one table and plot; where a group holds
    several IMP settings, their methods carry the setting in brackets."""
    labels: dict[str, set[str]] = {}
    variants: dict[str, set[str]] = {}
    for run in runs:
        labels.setdefault(describe(run), set()).add(_training_key(run))
        if run.spec.kind == "imp":
            variants.setdefault(_training_key(run), set()).add(imp_variant(run.spec))
    points = []
    for run in runs:
        label, key = describe(run), _training_key(run)
        if len(labels[label]) > 1:
            label += f" [{key}]"
        suffix = f" [{imp_variant(run.spec)}]" if run.spec.kind == "imp" and len(variants[key]) > 1 else ""
        points += [Point(p.method, p.density, p.value, p.seed, p.level, label)
                   for p in run_points(run, metric, suffix)]
    return points
