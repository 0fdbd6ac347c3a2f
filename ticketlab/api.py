"""The Python API: run any experiment spec, reusing finished work and resuming the rest."""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass

from .progress import Progress
from .scale import distributed
from .spec import Spec
from .store import RunDir, RunStore


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
PRECISIONS = ("auto", "fp32", "bf16")  # train.device.precision_policy says what each means


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    status: str
    metrics: dict
    reused: bool  # True when the spec had finished before and nothing was computed

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "run_dir": self.run_dir, "status": self.status,
                "reused": self.reused, "metrics": self.metrics}


def run(spec: Spec, *, runs_dir: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
        device: str | None = None, progress: Progress | None = None, checkpoint_every: str = "1ep",
        restart: bool = False, wait: bool = True, batch: bool = False, record: bool = True,
        compile: str | None = None, precision: str = "auto") -> RunResult:
    """Run `spec` once: a finished spec returns its stored result without computing.

    `batch` trains networks that a method trains side by side (IMP's controls of a level)
    as one stacked computation; results equal the unbatched ones to float tolerance, so it
    is not part of the spec. `record=False` leaves the SQLite index alone: a sweep's
    workers write only their run directories, and the driver records what they did.
    `compile` ("default", "reduce-overhead", "max-autotune") trains through torch.compile;
    like `batch` it changes speed, not results (beyond float tolerance), so it is not
    part of the spec either. `precision` ("auto": bf16 autocast on CUDA, fp32 elsewhere;
    "fp32"; "bf16") goes with the device, which is not part of the spec either; the run's
    status records both."""
    check_options(compile, precision)
    store = RunStore(runs_dir)
    run_dir = store.run_dir(spec)
    if run_dir.finished:
        return _result(run_dir, reused=True)
    from .context import RunContext  # these import torch: only when there is work to do
    from .methods import RUNNERS
    from .train.device import resolve_device

    spec.preflight()
    progress = (progress or Progress()) if distributed.is_writer() else Progress()  # DDP: rank 0 reports
    run_dir.create()
    run_dir.lock.acquire(wait=wait, on_wait=progress.note)
    try:
        ctx_device = distributed.setup(resolve_device(device))  # joins the torchrun (DDP) job, if any
        if distributed.from_rank0(run_dir.finished):  # another process finished it while we waited
            return _result(run_dir, reused=True)
        ctx = RunContext(device=ctx_device, data_dir=data_dir, progress=progress,
                         checkpoint_every=checkpoint_every, restart=restart,
                         batch=batch and _stacking_keeps(precision, ctx_device, progress), record=record,
                         compile=compile, precision=precision)
        _execute([run_dir], store, ctx, lambda: [RUNNERS[spec.kind](spec, run_dir, ctx)])
        return _result(run_dir, reused=False)
    finally:
        run_dir.lock.release()


def _execute(dirs: list[RunDir], store: RunStore, ctx, work) -> None:
    """What a run's directories go through around `work()` (one result per directory),
    for one run or a batch group: running, then finished, failed or interrupted, each
    state also in the index unless the context says a sweep's driver keeps it."""
    from .train.device import effective_precision, precision_policy

    # Neither is part of the spec; the precision as it applies ("auto" resolved).
    provenance = {"device": str(ctx.device), "precision": effective_precision(ctx.device, ctx.precision)}
    for run_dir in dirs:
        run_dir.remove_stale_temporaries()
        before = run_dir.status_record().get("precision")
        if before not in (None, provenance["precision"]):  # resuming work trained in another precision
            ctx.progress.note(f"{run_dir.run_id}: its earlier work ran in {before} and goes on in "
                              f"{provenance['precision']}, so its result mixes both; pass --precision {before} "
                              f"(or --restart) to keep one")
        run_dir.set_status("running", **provenance, **({"batched": len(dirs)} if len(dirs) > 1 else {}))
        if ctx.record:
            store.record(run_dir)
    try:
        with precision_policy(ctx.precision):
            results = work()
    except BaseException as err:
        for run_dir in dirs:
            if isinstance(err, KeyboardInterrupt):
                run_dir.set_status("interrupted")
            else:
                run_dir.set_status("failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
            if ctx.record:
                store.record(run_dir)
        raise
    for run_dir, result in zip(dirs, results):
        run_dir.finish(result, **provenance)
        if ctx.record:
            store.record(run_dir, result.get("metrics"))


def _untouched(run_dir: RunDir) -> bool:
    """Neither finished nor started (no checkpoint): free to join a batch group."""
    return not run_dir.finished and not run_dir.has("checkpoint.pt")


def check_options(compile: str | None, precision: str = "auto") -> None:
    from .errors import UnknownNameError

    if compile is not None and compile not in COMPILE_MODES:
        raise UnknownNameError("compile mode", compile, list(COMPILE_MODES))
    if precision not in PRECISIONS:
        raise UnknownNameError("precision", precision, list(PRECISIONS))


def _stacking_keeps(precision: str, device, progress: Progress | None) -> bool:
    """Whether stacked (vmapped) training would keep `precision` on `device`. torch's vmap
    does not autocast on a CPU (its batching rules call ops outside CPU autocast's list), so
    a stacked bf16 step would silently run in fp32: there, members train one by one."""
    if precision != "bf16":
        return True
    from .train.device import resolve_device

    if resolve_device(None if device is None else str(device)).type != "cpu":
        return True
    (progress or Progress()).note("bf16 on a CPU: torch's vmap does not autocast there, so the networks "
                                  "train one by one instead of stacked")
    return False


def _result(run_dir: RunDir, reused: bool) -> RunResult:
    return RunResult(run_id=run_dir.run_id, run_dir=str(run_dir.path), status="finished",
                     metrics=run_dir.result().get("metrics", {}), reused=reused)


def load_routed(run: str | os.PathLike, level: int, *, runs_dir: str | os.PathLike | None = None,
                device: str = "cpu"):
    """The trained network of one level of a Routing-the-Lottery run; `predict(x, context)`
    routes each input through the mask of its context (subset id, an int or one per input)."""
    from .methods.rtl import load_routed as load

    return load(RunStore(runs_dir).open(os.fspath(run)), level, device)


def run_many(specs: list[Spec], *, batch: bool = False, runs_dir: str | os.PathLike | None = None,
             **options) -> list[RunResult]:
    """`run` each spec, in order. With `batch`, runs that have not started and can share
    one stacked computation (`methods.BATCHED_RUNNERS`: the seeds of a training, PaI runs
    of one training setting) are trained together, each into its own run directory;
    results equal separate runs to float tolerance. Anything else (a single member, a
    member with a checkpoint, other kinds) runs one by one, with `batch` passed on (IMP
    batches a level's controls)."""
    check_options(options.get("compile"), options.get("precision", "auto"))
    done: dict[str, RunResult] = {}
    batch = batch and _stacking_keeps(options.get("precision", "auto"), options.get("device"), options.get("progress"))
    if batch and distributed.world_size() == 1:  # under torchrun each run goes through DDP instead
        for group in _batch_groups(specs, RunStore(runs_dir)):
            done.update((r.run_id, r) for r in _run_group(group, runs_dir=runs_dir, **options))
    return [done.get(s.run_id) or run(s, runs_dir=runs_dir, batch=batch, **options) for s in specs]


def _batch_groups(specs: list[Spec], store: RunStore) -> list[list[Spec]]:
    from .methods import BATCHED_RUNNERS

    groups: dict[str, dict[str, Spec]] = {}
    for spec in specs:
        if spec.kind not in BATCHED_RUNNERS or not _untouched(store.run_dir(spec)):
            continue
        key = BATCHED_RUNNERS[spec.kind][0](spec)
        if key is not None:
            groups.setdefault(key, {})[spec.run_id] = spec
    return [list(g.values()) for g in groups.values() if len(g) > 1]


def _run_group(specs: list[Spec], *, runs_dir=None, data_dir=None, device: str | None = None,
               progress: Progress | None = None, checkpoint_every: str = "1ep", restart: bool = False,
               wait: bool = True, record: bool = True, compile: str | None = None,
               precision: str = "auto") -> list[RunResult]:
    """Run a batch group: the lifecycle of `run` (locks, status, index) for each member,
    one computation for all."""
    from .context import RunContext
    from .methods import BATCHED_RUNNERS
    from .train.device import resolve_device

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
        # Members another process finished or started meanwhile go their own way (`run`).
        ready = [i for i, d in enumerate(dirs) if _untouched(d)]
        if len(ready) < 2:
            return []
        specs, dirs = [specs[i] for i in ready], [dirs[i] for i in ready]
        for run_dir in held:
            if run_dir not in dirs:
                run_dir.lock.release()
        held = list(dirs)
        ctx = RunContext(device=resolve_device(device), data_dir=data_dir, progress=progress,
                         checkpoint_every=checkpoint_every, restart=restart, batch=True, record=record,
                         compile=compile, precision=precision)
        _execute(dirs, store, ctx, lambda: BATCHED_RUNNERS[specs[0].kind][1](specs, dirs, ctx))
        return [_result(d, reused=False) for d in dirs]
    finally:
        for run_dir in held:
            run_dir.lock.release()
