"""How the built-in methods' finished runs read: their points (density, metric) for reports,
and their stored masks for similarity. Each reader is named by its method's entry
(`methods/__init__.py`); none imports torch until it loads a mask.

A regression run has no accuracy: asked for an accuracy metric, its units give the loss
in its place (`LOSS_OF`), so that a report of regression runs shows test loss.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from ..core.errors import TicketlabError
from ..store import RunDir
from .entry import Point


# What a regression unit reports where a classification one reports an accuracy.
LOSS_OF = {"test_accuracy": "test_loss", "test_accuracy_at_best_val": "test_loss_at_best_val",
           "val_accuracy": "val_loss", "best_val_accuracy": "best_val_loss"}


def is_regression(metrics: dict) -> bool:
    """Whether a run's or unit's metrics are a regression one's: a test loss, no accuracy."""
    return "test_accuracy" not in metrics and "test_loss" in metrics


def report_metric(metric: str, regression: bool) -> str:
    """The metric a report reads: an accuracy's loss counterpart for regression runs."""
    return LOSS_OF.get(metric, metric) if regression else metric


def metric_of(record: dict, metric: str, run: RunDir) -> float:
    metric = report_metric(metric, is_regression(record))
    if metric not in record:
        have = ", ".join(sorted(k for k, v in record.items() if isinstance(v, float)))
        raise TicketlabError(f"{run.run_id} has no '{metric}' (it has: {have}).")
    return record[metric]


_COUNT_DEAD = contextvars.ContextVar("count_dead_units", default=False)


def learned(record: dict) -> bool:
    """A unit that diverged or died (`methods/health.py`) is no point on a curve, except
    where a benchmark counts every seed (`counting_dead_units`)."""
    return _COUNT_DEAD.get() or "health" not in record


@contextlib.contextmanager
def counting_dead_units() -> Iterator[None]:
    """Points readers keep the units that did not learn: a benchmark ranks every seed run."""
    token = _COUNT_DEAD.set(True)
    try:
        yield
    finally:
        _COUNT_DEAD.reset(token)


def _seed(run: RunDir) -> int:
    return run.spec.training().seed


# -- points -------------------------------------------------------------------------------
def train_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    metrics = run.result()["metrics"]
    return [Point("dense", 1.0, metric_of(metrics, metric, run), _seed(run))] if learned(metrics) else []


def baseline_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    """pai and dst: one point. PaI's random masks are named apart from IMP's random control
    (a shuffled ticket)."""
    metrics, method = run.result()["metrics"], run.spec.method
    if not learned(metrics):
        return []
    return [Point("random_init" if method == "random" else method, metrics["density"],
                  metric_of(metrics, metric, run), _seed(run))]


def rst_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    result = run.result()
    density, seed = result["metrics"]["density"], _seed(run)
    return [Point(name, density, metric_of(result[part], metric, run), seed)
            for name, part in (("rst", "finetune"), ("rst_scratch", "scratch")) if learned(result[part])]


def elastic_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    result, seed = run.result(), _seed(run)
    name = "elastic_shuffled" if run.spec.shuffle_replicas else "elastic"
    ticket = result["ticket"]
    points = [Point(name, ticket["density"], metric_of(ticket, metric, run), seed)] if learned(ticket) else []
    return points + [Point(f"elastic_{c}", r["density"], metric_of(r, metric, run), seed)
                     for c, r in result["controls"].items() if learned(r)]


def imp_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    """One point per level and control; `suffix` tells apart several IMP settings in one group."""
    points, seed = [], _seed(run)
    for level in run.result()["levels"]:
        if learned(level):
            points.append(Point("imp" + suffix, level["density"], metric_of(level, metric, run), seed,
                                level["level"]))
        for name, control in level.get("controls", {}).items():
            if not learned(control):
                continue
            points.append(Point(name + suffix, control["density"], metric_of(control, metric, run), seed,
                                level["level"]))
    return points


def imp_variant(spec) -> str:
    scope = f"channel ({spec.channel_score})" if spec.scope == "channel" else spec.scope
    return f"{scope} {spec.prune_fraction:g}/level, rewind {spec.rewind}"


# -- masks --------------------------------------------------------------------------------
def imp_masks(run: RunDir) -> list[tuple]:
    """Each level's ticket and its controls' masks (reinit reuses the ticket's: nothing to compare)."""
    spec, seed, out = run.spec, _seed(run), []
    for level in range(1, spec.levels + 1):
        unit = run.level(level)
        mask = unit.load_mask("mask.safetensors")
        out.append((mask.density(), level, f"imp s{seed}", mask))
        for control in spec.controls:
            if control != "reinit" and unit.child(control).has("mask.safetensors"):
                other = unit.child(control).load_mask("mask.safetensors")
                out.append((other.density(), level, f"{control} s{seed}", other))
    return out


def rtl_masks(run: RunDir) -> list[tuple]:
    """Each level's per-subset masks, stored together as `K/NAME` tensors."""
    from ..sparse import Mask

    seed, out = _seed(run), []
    for index, level in enumerate(run.result()["levels"]):
        tensors = run.level(index).load_tensors("masks.safetensors")
        for k, name in enumerate(level["subsets"]):
            mask = Mask({n.split("/", 1)[1]: t for n, t in tensors.items() if n.startswith(f"{k}/")})
            out.append((mask.density(), index, f"{name} s{seed}", mask))
    return out


def baseline_mask(run: RunDir) -> list[tuple]:
    """pai and dst runs: the one mask the run trained under, named by its method."""
    return _one_mask(run, run.spec.method)


def elastic_mask(run: RunDir) -> list[tuple]:
    return _one_mask(run, "elastic")


def _one_mask(run: RunDir, name: str) -> list[tuple]:
    if not run.has("mask.safetensors"):
        return []
    mask = run.load_mask("mask.safetensors")
    return [(mask.density(), None, f"{name} s{_seed(run)}", mask)]



def supermask_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    """The edge-popup mask and each control beside it (`supermask_random`), one point each."""
    result, seed = run.result(), _seed(run)
    metrics = result["metrics"]
    points = [Point("supermask" + suffix, metrics["density"], metric_of(metrics, metric, run), seed)] \
        if learned(metrics) else []
    return points + [Point(f"supermask_{name}{suffix}", control["density"], metric_of(control, metric, run), seed)
                     for name, control in result.get("controls", {}).items() if learned(control)]


def supermask_masks(run: RunDir) -> list[tuple]:
    """The edge-popup mask, and the random control's where the run has one."""
    out = _one_mask(run, "supermask")
    for name in run.spec.controls:
        if run.child(name).has("mask.safetensors"):
            mask = run.child(name).load_mask("mask.safetensors")
            out.append((mask.density(), None, f"supermask_{name} s{_seed(run)}", mask))
    return out


def early_bird_points(run: RunDir, metric: str, suffix: str = "") -> list[Point]:
    """The retrained early-bird ticket at its weight density, one point."""
    metrics = run.result()["metrics"]
    return [Point("early_bird" + suffix, metrics["density"], metric_of(metrics, metric, run), _seed(run))] \
        if learned(metrics) else []


def early_bird_variant(spec) -> str:
    return f"{spec.structure}, retrain from {spec.retrain}"


def early_bird_mask(run: RunDir) -> list[tuple]:
    return _one_mask(run, "early_bird")
