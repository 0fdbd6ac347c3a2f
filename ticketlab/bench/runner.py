"""Running a suite: every unfinished job, then the results file and the page.

Run directories are content-addressed, so the bench keeps no bookkeeping of its own: a
finished run is reused, an interrupted one resumes from its checkpoint, and a suite that
grows trains only what is new. The serial backend trains in this process, method by
method, with the runs of one method and setting batched where the method allows (IMP's
seeds, PaI's seeds and densities); the local and ray backends hand the runs to the sweep
driver.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ..core.errors import TicketlabError
from ..core.progress import Progress, duration_text
from ..store import RunStore
from .expand import Job, expand
from .suite import Suite

BACKENDS = ("serial", "local", "ray")


def trainings(job: Job) -> float:
    """How many networks a job trains, for the ETA (a level or control each)."""
    spec = job.spec
    if spec.kind == "imp":
        controlled = len(spec.control_levels) if spec.control_levels else spec.levels
        return spec.levels + 1 + len(spec.controls) * controlled
    return {"early_bird": 2.0, "rst": 2.0, "pools": 0.5, "lmc": 2.0}.get(spec.kind, 1.0)


class BenchProgress(Progress):
    """One line per finished group and, while a group trains, one every `every_s` seconds:
    runs done, the training in progress, the time spent and an ETA from the measured
    seconds per training of each setting (the average of all settings for a new one)."""

    def __init__(self, name: str, jobs: list[Job], done: set[str], note: Callable[[str], None],
                 every_s: float = 15.0):
        self.name, self.jobs, self.done, self.say, self.every_s = name, jobs, done, note, every_s
        self.spent: dict[str, list[float]] = {}   # seconds and trainings so far, by setting
        self.t0 = self.last = time.monotonic()
        self.current, self.total, self.step = "", 0, 0

    def start(self, description: str, total: int, done: int = 0) -> None:
        self.current, self.total, self.step = description, total, done

    def advance(self, done: int) -> None:
        self.step = done
        if time.monotonic() - self.last >= self.every_s:
            self.line(f"{self.current} step {self.step}/{self.total}")

    def note(self, message: str) -> None:  # the runs' own notes: only warnings and failures matter here
        if "warning" in message.lower() or "failed" in message.lower():
            self.say(message)

    def finished(self, group: list[Job], seconds: float) -> None:
        self.done.update(job.spec.run_id for job in group)
        spent = self.spent.setdefault(group[0].setting.name, [0.0, 0.0])
        spent[0] += seconds
        spent[1] += sum(trainings(job) for job in group)
        self.line(f"{group[0].method.name} on {group[0].setting.name} done ({duration_text(seconds)})")

    def eta(self) -> float | None:
        rate = {name: seconds / count for name, (seconds, count) in self.spent.items() if count}
        if not rate:
            return None
        average = sum(rate.values()) / len(rate)
        return sum(trainings(j) * rate.get(j.setting.name, average) for j in self.jobs if j.spec.run_id not in self.done)

    def line(self, what: str) -> None:
        self.last = time.monotonic()
        left = self.eta()
        eta = f", ETA {duration_text(left)}" if left is not None else ""
        finished = sum(job.spec.run_id in self.done for job in self.jobs)
        self.say(f"bench {self.name}: {finished}/{len(self.jobs)} runs done{eta} "
                 f"({duration_text(self.last - self.t0)} elapsed): {what}")


def groups_of(jobs: list[Job]) -> list[list[Job]]:
    """Jobs of one method on one setting, in suite order: they batch together and are what
    the progress line counts."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.setting.name, job.method.name), []).append(job)
    return list(groups.values())


def run_suite(suite: Suite, *, backend: str = "serial", runs_dir: str | os.PathLike | None = None,
              note: Callable[[str], None] = print, batch: bool = True, **options) -> list[Job]:
    """Run every job of `suite` that has not finished; returns all its jobs. `options` go to
    `api.run_many` (serial) or `sweep.run_sweep` (local, ray): data_dir, device, ..."""
    if backend not in BACKENDS:
        raise TicketlabError(f"Unknown bench backend {backend!r}; valid backends: {', '.join(BACKENDS)}.")
    jobs = expand(suite)
    store = RunStore(runs_dir)
    todo = [job for job in jobs if not store.run_dir(job.spec).finished]
    reused = {job.spec.run_id for job in jobs} - {job.spec.run_id for job in todo}
    note(f"bench {suite.name}: {len(jobs)} runs, {len(reused)} finished already, {len(todo)} to train "
         f"on the {backend} backend")
    if not todo:
        return jobs
    for job in todo:
        job.spec.preflight()  # every check before the first run starts
    if backend == "serial":
        _run_serial(suite, jobs, todo, reused, store, note, batch, options)
    else:
        _run_sweep(todo, backend, store, note, options)
    return jobs


def _run_serial(suite: Suite, jobs: list[Job], todo: list[Job], reused: set[str], store: RunStore,
                note: Callable[[str], None], batch: bool, options: dict) -> None:
    from .. import api

    progress = BenchProgress(suite.name, jobs, set(reused), note)
    for group in groups_of(todo):
        started = time.monotonic()
        api.run_many([job.spec for job in group], batch=batch, runs_dir=store.root, progress=progress, **options)
        progress.finished(group, time.monotonic() - started)


class _Points:
    """The jobs as the sweep driver reads a sweep: (axis values, spec) pairs."""

    def __init__(self, jobs: list[Job], retries: int):
        self.jobs, self.retries = jobs, retries

    def points(self):
        return [({"setting": j.setting.name, "method": j.method.name, "seed": j.seed,
                  "density": j.density if j.density is not None else "-"}, j.spec) for j in self.jobs]


def _run_sweep(todo: list[Job], backend: str, store: RunStore, note: Callable[[str], None], options: dict) -> None:
    from ..core.progress import LineProgress
    from ..sweep.driver import run_sweep

    allowed = {"data_dir", "device", "checkpoint_every", "compile", "precision", "tensorboard", "address",
               "allow_disconnected",
               "cpus_per_run", "gpus_per_run", "max_concurrent"}
    runs = run_sweep(_Points(todo, retries=2), backend, runs_dir=store.root, progress=LineProgress(),
                     **{k: v for k, v in options.items() if k in allowed and v is not None})
    failed = [r for r in runs if r.status != "finished"]
    if failed:
        raise TicketlabError(f"{len(failed)} bench run(s) failed: " + "; ".join(
            f"{r.spec.run_id}: {r.errors[-1] if r.errors else 'no result'}" for r in failed[:5])
            + ". Fix the cause and run the same command again: finished runs are kept.")


def outputs(out: str | os.PathLike) -> tuple[Path, Path]:
    """(page, results file): DIR/index.html and DIR/bench.json beside it."""
    page = Path(out)
    if page.suffix != ".html":
        raise TicketlabError(f"--out {out}: the leaderboard page is an .html file, e.g. leaderboard/index.html.")
    return page, page.with_name("bench.json")
