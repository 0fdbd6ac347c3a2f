"""`run`: one spec, reusing finished work and resuming the rest; the runs it reads first."""
from __future__ import annotations

import os

from ..core.progress import Progress
from ..data.budget import data_budget as parse_data_budget
from ..methods import method_of
from ..specs import Spec
from ..store import RunDir, RunStore
from ..core.ranks import is_writer
from ..train import ddp
from ..train.options import check_options
from .lifecycle import execute, stacking_keeps, warn_changed_code
from .results import RunResult, result_of


def run(spec: Spec, *, runs_dir: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
        device: str | None = None, progress: Progress | None = None, checkpoint_every: str = "1ep",
        restart: bool = False, wait: bool = True, batch: bool = False, record: bool = True,
        compile: str | None = None, precision: str = "auto", allow_disconnected: bool = False,
        data_budget: int | str | None = None, tensorboard: str | os.PathLike | None = None) -> RunResult:
    """Run `spec` once: a finished spec returns its stored result without computing.

    `batch` trains networks that a method trains side by side (IMP's controls of a level)
    as one stacked computation; results equal the unbatched ones to float tolerance, so it
    is not part of the spec. `record=False` leaves the SQLite index alone: a sweep's
    workers write only their run directories, and the driver records what they did.
    `compile` ("default", "reduce-overhead", "max-autotune") trains through torch.compile;
    like `batch` it changes speed, not results (beyond float tolerance), so it is not
    part of the spec either. `precision` ("auto": bf16 autocast on CUDA, fp32 elsewhere;
    "fp32"; "bf16") goes with the device, which is not part of the spec either; the run's
    status records both. `allow_disconnected` trains a mask that leaves no path of kept
    weights from the input to the output, which is refused otherwise (`sparse.connectivity`).
    `data_budget` (bytes, or a size such as "500MB" or "2GiB"; None: no limit) is the device
    memory the data may take: a dataset over it stays in host memory and streams to the
    device batch by batch (`data.placement`), with the same results, so it is not part of
    the spec either. `tensorboard` (a folder; None: off) writes each unit's live curves
    there as it trains (`store.scalars`), which changes nothing the run computes."""
    check_options(compile, precision)
    data_budget = parse_data_budget(data_budget)
    store = RunStore(runs_dir)
    run_dir = store.run_dir(spec)
    if run_dir.finished:
        warn_changed_code(run_dir, progress)  # made with a plugin's code that has changed since
        return result_of(run_dir, reused=True)
    from ..methods.context import RunContext  # these import torch: only when there is work to do
    from ..train.device import resolve_device

    if tensorboard is not None:
        from ..store.scalars import require_tensorboard
        require_tensorboard(tensorboard)
        tensorboard = os.fspath(tensorboard)
    spec.preflight()
    progress = (progress or Progress()) if is_writer() else Progress()  # DDP: rank 0 reports
    run_dir.create()
    run_dir.lock.acquire(wait=wait, on_wait=progress.note)
    try:
        ctx_device = ddp.setup(resolve_device(device))  # joins the torchrun (DDP) job, if any
        if ddp.from_rank0(run_dir.finished):  # another process finished it while we waited
            return result_of(run_dir, reused=True)
        ctx = RunContext(device=ctx_device, data_dir=data_dir, progress=progress,
                         checkpoint_every=checkpoint_every, restart=restart,
                         batch=batch and stacking_keeps(precision, ctx_device, progress), record=record,
                         compile=compile, precision=precision, allow_disconnected=allow_disconnected,
                         data_budget=data_budget, tensorboard=tensorboard)
        method = method_of(spec.kind)

        def work() -> list[dict]:
            # The runs the spec reads run inside its own run's lock and lifecycle: a second
            # process with --no-wait fails on this run's lock at once, and a source that
            # fails or is interrupted marks this run so too.
            ctx.sources = finished_sources(spec, store, dict(
                data_dir=data_dir, device=str(ctx.device), progress=ctx.progress, checkpoint_every=checkpoint_every,
                batch=ctx.batch, record=record, compile=compile, precision=precision,
                allow_disconnected=allow_disconnected, data_budget=data_budget, tensorboard=tensorboard))
            return [method.call("runner", spec, run_dir, ctx)]

        execute([run_dir], store, ctx, work)
        return result_of(run_dir, reused=False)
    finally:
        run_dir.lock.release()


def finished_sources(spec: Spec, store: RunStore, options: dict) -> dict[str, RunDir]:
    """The run directories of the runs `spec` reads (`Spec.sources()`), each run first, or
    resumed, if it has not finished: beside the spec's own run, with its options, except
    `restart` and `wait`, which concern the spec's own run alone (a source another
    process is running is waited for)."""
    return {name: store.open(run(source, runs_dir=store.root, **options).run_id)
            for name, source in spec.sources().items()}
