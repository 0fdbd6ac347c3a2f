"""The bench document (`bench.json`) of a suite's finished runs: one record per setting,
method, target density and seed, the dense network of each setting, and provenance.

Points come from each method's own `points` reader, read twice: as reports read them, and
with the units that did not learn kept (`methods.results.counting_dead_units`). A point
only in the second reading is recorded with `learned: false` and still counts: dropping
a seed that collapsed would flatter the method.
"""
from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

from ..methods import method_of
from ..methods.entry import Point
from ..methods.results import counting_dead_units
from ..store import RunDir, RunStore
from .expand import Job, nearest_target
from .schema import SCHEMA, VERSION
from .suite import Suite

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def bench_document(suite: Suite, jobs: list[Job], store: RunStore, device: str) -> dict:
    """The document of `jobs`, which must all have finished."""
    provenance = provenance_entry(suite.name, device)
    records, dense = [], {}
    for job in jobs:
        run = store.run_dir(job.spec)
        records += job_records(job, run, suite, provenance["id"], dense)
    records += dense.values()
    records.sort(key=record_order)
    return {"schema": SCHEMA, "version": VERSION,
            "suites": [{"name": suite.name, "description": suite.description, "digest": suite.digest}],
            "provenance": [provenance], "records": records,
            "published": sorted(suite.published, key=lambda p: (p["setting"], p["method"], -p["density"]))}


def record_order(record: dict) -> tuple:
    return (record["setting"], record["method"], -record["target_density"], record["seed"])


def job_records(job: Job, run: RunDir, suite: Suite, provenance: str, dense: dict[tuple, dict]) -> list[dict]:
    """The job's records at the suite's target densities; its dense point (IMP's level 0),
    when the setting has none yet, goes into `dense`."""
    learned = {_key(p) for p in _points(run)}
    with counting_dead_units():
        points = _points(run)
    targets = job.targets or suite.densities
    base = {"suite": suite.name, "setting": job.setting.name, "dataset": job.spec.training().dataset,
            "model": job.spec.training().model, "seed": job.seed, "run_id": run.run_id,
            "device": run.status_record().get("device", "unknown"), "provenance": provenance}
    curves = {p.method for p in points if p.density < 1.0 and (not job.method.curves or p.method in job.method.curves)}
    out = []
    for point in points:
        record = {**base, "density": round(point.density, 6), "test_accuracy": point.value,
                  "learned": _key(point) in learned, "unit": _unit(point), **cost(run, point)}
        if point.density >= 1.0:
            key = (job.setting.name, job.seed)
            if key not in dense:
                dense[key] = {**record, "method": "dense", "target_density": 1.0}
            continue
        if point.method not in curves:
            continue
        target = nearest_target(point.density, targets)
        if target is not None:
            # A method with one curve goes by the suite's name for it; IMP's controls by theirs.
            name = job.method.name if len(curves) == 1 else point.method
            out.append({**record, "method": job.method.rename.get(point.method, name), "target_density": target})
    return _one_per_target(out, job)


def _points(run: RunDir) -> list[Point]:
    return method_of(run.spec.kind).call("points", run, "test_accuracy", "")


def _key(point: Point) -> tuple:
    return (point.method, point.level, round(point.density, 9))


def _unit(point: Point) -> str:
    return f"level_{point.level:02d}" if point.level is not None else ""


def _one_per_target(records: list[dict], job: Job) -> list[dict]:
    """Where several levels fall near one target, the nearest stands for it."""
    best: dict[tuple, dict] = {}
    for record in records:
        key = (record["method"], record["target_density"])
        gap = abs(record["density"] - record["target_density"])
        if key not in best or gap < abs(best[key]["density"] - record["target_density"]):
            best[key] = record
    return list(best.values())


def cost(run: RunDir, point: Point) -> dict:
    """Steps and training seconds spent on the ticket: for a level of IMP, every level up
    to it (and the control's own training); otherwise the run's whole training."""
    result = run.result()
    if point.level is not None and "levels" in result:
        levels = [lv for lv in result["levels"] if lv["level"] <= point.level]
        steps = sum(lv.get("step", 0) for lv in levels)
        seconds = sum(lv.get("train_seconds", 0.0) for lv in levels)
        control = levels[-1].get("controls", {}).get(point.method) if levels else None
        if control is not None:
            steps, seconds = steps + control.get("step", 0), seconds + control.get("train_seconds", 0.0)
        return {"steps": int(steps), "seconds": round(seconds, 3)}
    metrics = result.get("metrics", {})
    steps = metrics.get("total_steps", metrics.get("step", 0))
    # The run's own training time (early-bird's: its search and its retraining), else its units'.
    seconds = metrics.get("train_seconds", 0.0) or _seconds(result)
    return {"steps": int(steps), "seconds": round(seconds, 3)}


def _seconds(value) -> float:
    """Every `train_seconds` in a result without run-level metrics (RST's two trainings)."""
    if isinstance(value, dict):
        own = value.get("train_seconds", 0.0)
        return (own if isinstance(own, (int, float)) else 0.0) + sum(
            _seconds(v) for k, v in value.items() if k != "train_seconds")
    if isinstance(value, list):
        return sum(_seconds(v) for v in value)
    return 0.0


def provenance_entry(suite: str, device: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import torch
    try:
        ours = version("ticketlab")
    except PackageNotFoundError:  # a source tree on the path, not installed
        ours = "unknown"
    return {"id": f"{suite}@{platform.node() or 'host'}", "suite": suite, "ticketlab": ours,
            "commit": _commit(), "torch": torch.__version__, "python": platform.python_version(),
            "device": device, "host": platform.node() or "unknown",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def describe_device(device) -> str:
    import torch
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _commit() -> str:
    """The commit of a source checkout (with `+changes` when its files differ), else 'unknown'."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=_PACKAGE_ROOT, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "ticketlab"],
                               cwd=_PACKAGE_ROOT, capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
