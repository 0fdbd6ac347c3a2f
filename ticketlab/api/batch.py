"""`run_many`: several specs, those that can share one stacked computation trained together."""
from __future__ import annotations

import os

from ..core.progress import Progress
from ..data.budget import data_budget as parse_data_budget
from ..methods import method_of
from ..specs import Spec
from ..store import RunStore
from ..core.ranks import world_size
from ..train.options import check_options
from .lifecycle import execute, stacking_keeps
from .results import RunResult, result_of
from .single import run


def run_many(specs: list[Spec], *, batch: bool = False, runs_dir: str | os.PathLike | None = None,
             **options) -> list[RunResult]:
    """`run` each spec, in order. With `batch`, unfinished runs that can share one stacked
    computation (methods whose entry has a `batched` runner: the seeds of a training, PaI
    runs of one training setting) are trained together, each into its own run directory;
    results equal separate runs to float tolerance, and a batch cut short resumes as a
    batch, to the results it would have had (`methods/units_batched.py`). Anything else (a
    single member, other kinds) runs one by one, with `batch` passed on (IMP batches a
    level's controls)."""
    check_options(options.get("compile"), options.get("precision", "auto"))
    parse_data_budget(options.get("data_budget"))  # a bad size fails before the first run starts
    if options.get("tensorboard") is not None:  # as does asking for curves without tensorboard
        from ..store.scalars import require_tensorboard
        require_tensorboard(options["tensorboard"])
    done: dict[str, RunResult] = {}
    batch = batch and stacking_keeps(options.get("precision", "auto"), options.get("device"), options.get("progress"))
    if batch and world_size() == 1:  # under torchrun each run goes through DDP instead
        for group in _batch_groups(specs, RunStore(runs_dir)):
            done.update((r.run_id, r) for r in _run_group(group, runs_dir=runs_dir, **options))
    return [done.get(s.run_id) or run(s, runs_dir=runs_dir, batch=batch, **options) for s in specs]


def _batch_groups(specs: list[Spec], store: RunStore) -> list[list[Spec]]:
    groups: dict[str, dict[str, Spec]] = {}
    for spec in specs:
        method = method_of(spec.kind)
        # A spec that reads other runs goes through `run`, which runs those first. A batch cut
        # short groups again, and resumes as one (`methods/units_batched.py`).
        if not method.has("batched") or spec.sources() or store.run_dir(spec).finished:
            continue
        key = method.call("batch_key", spec)
        if key is not None:
            groups.setdefault(key, {})[spec.run_id] = spec
    return [list(g.values()) for g in groups.values() if len(g) > 1]


def _run_group(specs: list[Spec], *, runs_dir=None, data_dir=None, device: str | None = None,
               progress: Progress | None = None, checkpoint_every: str = "1ep", restart: bool = False,
               wait: bool = True, record: bool = True, compile: str | None = None,
               precision: str = "auto", allow_disconnected: bool = False,
               data_budget: int | str | None = None, tensorboard: str | os.PathLike | None = None) -> list[RunResult]:
    """Run a batch group: the lifecycle of `run` (locks, status, index) for each member,
    one computation for all."""
    from ..methods.context import RunContext
    from ..train.device import resolve_device

    store = RunStore(runs_dir)
    for spec in specs:
        spec.preflight()
    progress = progress or Progress()
    # Locks in one global order (the run id), so two overlapping groups never deadlock.
    specs = sorted(specs, key=lambda s: s.run_id)
    dirs = [store.run_dir(s) for s in specs]
    held = []
    try:
        for run_dir in dirs:
            run_dir.create()
            run_dir.lock.acquire(wait=wait, on_wait=progress.note)
            held.append(run_dir)
        # Members another process finished meanwhile go their own way (`run`).
        ready = [i for i, d in enumerate(dirs) if not d.finished]
        if len(ready) < 2:
            return []
        specs, dirs = [specs[i] for i in ready], [dirs[i] for i in ready]
        for run_dir in held:
            if run_dir not in dirs:
                run_dir.lock.release()
        held = list(dirs)
        ctx = RunContext(device=resolve_device(device), data_dir=data_dir, progress=progress,
                         checkpoint_every=checkpoint_every, restart=restart, batch=True, record=record,
                         compile=compile, precision=precision, allow_disconnected=allow_disconnected,
                         data_budget=parse_data_budget(data_budget),
                         tensorboard=None if tensorboard is None else os.fspath(tensorboard))
        execute(dirs, store, ctx, lambda: method_of(specs[0].kind).call("batched", specs, dirs, ctx))
        return [result_of(d, reused=False) for d in dirs]
    finally:
        for run_dir in held:
            run_dir.lock.release()
