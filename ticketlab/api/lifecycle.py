"""What a run's directories go through around its work, for one run or a batch group."""
from __future__ import annotations

import traceback

from ..core.progress import Progress
from ..store import RunDir, RunStore


def execute(dirs: list[RunDir], store: RunStore, ctx, work) -> None:
    """What a run's directories go through around `work()` (one result per directory),
    for one run or a batch group: running, then finished, failed or interrupted, each
    state also in the index unless the context says a sweep's driver keeps it."""
    from ..train.device import effective_precision, precision_policy

    # Neither is part of the spec; the precision as it applies ("auto" resolved).
    provenance = {"device": str(ctx.device), "precision": effective_precision(ctx.device, ctx.precision)}
    for run_dir in dirs:
        run_dir.recover(ctx.progress.note)  # cut writes, damaged checkpoints and results
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


def untouched(run_dir: RunDir) -> bool:
    """Neither finished nor started (no checkpoint): free to join a batch group."""
    return not run_dir.finished and not run_dir.has("checkpoint.pt")


def stacking_keeps(precision: str, device, progress: Progress | None) -> bool:
    """Whether stacked (vmapped) training would keep `precision` on `device`. torch's vmap
    does not autocast on a CPU (its batching rules call ops outside CPU autocast's list), so
    a stacked bf16 step would silently run in fp32: there, members train one by one."""
    if precision != "bf16":
        return True
    from ..train.device import resolve_device

    if resolve_device(None if device is None else str(device)).type != "cpu":
        return True
    (progress or Progress()).note("bf16 on a CPU: torch's vmap does not autocast there, so the networks "
                                  "train one by one instead of stacked")
    return False
