"""The sweep driver: submits each unfinished run once, retries failures, keeps the index.

Run directories are content-addressed, so the driver needs no bookkeeping of its own to
be idempotent: a finished run is skipped, an interrupted one resumes from its checkpoint
in its next attempt, and a re-submitted sweep trains only what is left. The driver is
the only writer of the SQLite index; workers write only their run directories.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..api.lifecycle import warn_changed_code
from ..core.errors import TicketlabError
from ..core.progress import Progress, duration_text
from ..specs import Spec
from ..store import RunStore
from .backends import check_backend, make_backend
from .grid import Sweep


@dataclass
class SweepRun:
    point: dict[str, Any]
    spec: Spec
    status: str = "pending"      # pending | running | finished | failed
    reused: bool = False         # finished before this sweep started
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {"run_id": self.spec.run_id, "point": self.point, "status": self.status, "reused": self.reused,
                "attempts": self.attempts, "errors": self.errors, "metrics": self.metrics,
                "seconds": round(self.seconds, 2)}


class _Tally:
    """Counts and an ETA for the progress line."""

    def __init__(self, runs: list[SweepRun], slots: int):
        self.runs, self.slots, self.t0 = runs, slots, time.monotonic()

    def line(self) -> str:
        count = {s: sum(r.status == s for r in self.runs) for s in ("finished", "running", "failed", "pending")}
        trained = [r.seconds for r in self.runs if r.status == "finished" and not r.reused]
        left = count["running"] + count["pending"]
        eta = ""
        if trained and left:
            per_run = sum(trained) / len(trained)
            eta = f", ETA {duration_text(per_run * left / max(1, min(self.slots, left)))}"
        return (f"sweep: {count['finished']}/{len(self.runs)} done, {count['running']} running, "
                f"{count['failed']} failed{eta} ({duration_text(time.monotonic() - self.t0)} elapsed)")


def run_sweep(sweep: Sweep, backend: str = "local", *, runs_dir: str | os.PathLike | None = None,
              data_dir: str | os.PathLike | None = None, device: str | None = None, address: str | None = None,
              cpus_per_run: int = 1, gpus_per_run: int = 0, max_concurrent: int | None = None,
              retries: int | None = None, checkpoint_every: str = "1ep", progress: Progress | None = None,
              poll_s: float = 1.0, compile: str | None = None, precision: str = "auto",
              tensorboard: str | os.PathLike | None = None, allow_disconnected: bool = False) -> list[SweepRun]:
    """Run every point of `sweep` once; returns one SweepRun per point, in sweep order.
    `compile`, `precision`, `tensorboard` (a folder for live curves) and
    `allow_disconnected` reach every run as in `api.run`."""
    from ..train.options import check_options

    check_options(compile, precision)
    check_backend(backend, address)
    progress = progress or Progress()
    store = RunStore(runs_dir)
    root = str(store.root.resolve())  # workers may run elsewhere: give them absolute paths
    data_dir = data_dir or os.environ.get("TICKETLAB_DATA")  # a remote worker has not this environment
    data_root = str(Path(data_dir).resolve()) if data_dir else None
    curves_root = str(Path(tensorboard).resolve()) if tensorboard is not None else None
    if gpus_per_run and device and device.startswith("cuda:"):
        raise TicketlabError(f"--device {device} with --gpus-per-run: each run sees only its own GPUs, "
                             "numbered from cuda:0. Use --device cuda (or auto).")
    retries = sweep.retries if retries is None else retries
    runs = [SweepRun(point, spec) for point, spec in sweep.points()]
    todo = deque()
    for run in runs:
        run_dir = store.run_dir(run.spec)
        if run_dir.finished:
            warn_changed_code(run_dir, progress)  # made with a plugin's code that has changed since
            run.status, run.reused, run.metrics = "finished", True, run_dir.result().get("metrics", {})
            store.record(run_dir, run.metrics)
        else:
            run.spec.preflight()  # every check before the first run starts
            todo.append(run)
    if not todo:
        progress.note(f"sweep: all {len(runs)} runs had finished; nothing to train")
        return runs
    if curves_root is not None:  # here, once, rather than in every worker and its retries
        from ..store.scalars import require_tensorboard
        require_tensorboard(curves_root)
    pool = make_backend(backend, address=address, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                        max_concurrent=max_concurrent)
    tally = _Tally(runs, pool.slots)
    progress.note(f"sweep: {len(todo)} of {len(runs)} runs to do on the {backend} backend "
                  f"({min(pool.slots, len(todo))} at a time)")
    progress.start("sweep", total=len(runs), done=len(runs) - len(todo))
    running: dict[Any, tuple[SweepRun, float]] = {}
    try:
        while todo or running:
            while todo and len(running) < pool.slots:
                run = todo.popleft()
                run.attempts += 1
                run.status = "running"
                payload = {"spec": run.spec.to_dict(), "runs_dir": root, "attempt": run.attempts,
                           "data_dir": data_root, "device": device, "checkpoint_every": checkpoint_every,
                           "compile": compile, "precision": precision, "tensorboard": curves_root,
                           "allow_disconnected": allow_disconnected}
                running[pool.submit(payload)] = (run, time.monotonic())
            for handle, ok, value in pool.wait(list(running), timeout=poll_s):
                run, started = running.pop(handle)
                run.seconds += time.monotonic() - started
                run_dir = store.run_dir(run.spec)
                if ok:  # the worker's word: the driver's copy of the folder may lag (a synced disk)
                    run.status, run.metrics = "finished", value.get("metrics", {})
                    store.index.record(run.spec.run_id, run.spec.kind, "finished", run.spec.to_dict(),
                                       str(run_dir.path), run.metrics)
                    progress.note(f"{run.spec.run_id} finished ({duration_text(run.seconds)})")
                else:
                    run.errors.append(str(value or "the worker ended without finishing the run"))
                    if run.attempts <= retries:
                        run.status = "pending"
                        todo.appendleft(run)  # next: it resumes from its checkpoint
                        progress.note(f"{run.spec.run_id} attempt {run.attempts} failed ({run.errors[-1]}); "
                                      f"retrying ({retries - run.attempts + 1} left)")
                    else:
                        run.status = "failed"
                        store.index.record(run.spec.run_id, run.spec.kind, "failed", run.spec.to_dict(),
                                           str(run_dir.path), None)
                        progress.note(f"{run.spec.run_id} failed after {run.attempts} attempts: {run.errors[-1]} "
                                      f"(log: {run_dir.path / 'logs'})")
                progress.advance(sum(r.status == "finished" for r in runs))
                progress.note(tally.line())
    finally:
        pool.close()
        progress.stop()
    return runs


def sweep_markdown(runs: list[SweepRun]) -> str:
    """One row per point: its axis values, status, attempts and final test accuracy."""
    names = list(runs[0].point) if runs else []
    lines = ["| run | " + " | ".join(names) + " | status | attempts | test accuracy |",
             "|---|" + "---|" * len(names) + "---|---:|---:|"]
    for r in runs:
        acc = r.metrics.get("test_accuracy")
        lines.append(f"| {r.spec.run_id} | " + " | ".join(str(r.point[n]) for n in names)
                     + f" | {r.status}{' (reused)' if r.reused else ''} | {r.attempts} | "
                     + (f"{100 * acc:.2f}" if isinstance(acc, (int, float)) else "-") + " |")
    return "\n".join(lines)
