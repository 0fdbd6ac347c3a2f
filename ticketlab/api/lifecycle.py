"""What a run's directories go through around its work, for one run or a batch group."""
from __future__ import annotations

import sys
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
    code: dict[str, dict] = {}
    for run_dir in dirs:
        run_dir.recover(ctx.progress.note)  # cut writes, damaged checkpoints and results
        status = run_dir.status_record()
        before = status.get("precision")
        if before not in (None, provenance["precision"]):  # resuming work trained in another precision
            ctx.progress.note(f"{run_dir.run_id}: its earlier work ran in {before} and goes on in "
                              f"{provenance['precision']}, so its result mixes both; pass --precision {before} "
                              f"(or --restart) to keep one")
        code[run_dir.run_id] = code_record(run_dir, status, ctx)
        run_dir.set_status("running", **provenance, **code[run_dir.run_id],
                           **({"batched": len(dirs)} if len(dirs) > 1 else {}))
        if ctx.record:
            store.record(run_dir)
    try:
        with precision_policy(ctx.precision):
            results = work()
    except BaseException as err:
        for run_dir in dirs:  # the code record stays: a resume compares its code with it
            if isinstance(err, KeyboardInterrupt):
                run_dir.set_status("interrupted", **code[run_dir.run_id])
            else:
                run_dir.set_status("failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
                                   **code[run_dir.run_id])
            if ctx.record:
                store.record(run_dir)
        raise
    for run_dir, result in zip(dirs, results):
        run_dir.finish(result, **provenance, **code[run_dir.run_id])
        if ctx.record:
            store.record(run_dir, result.get("metrics"))


# -- the user's code a run was made with -------------------------------------------------
# A registration's version is the user's word for its meaning; its fingerprint (the sha256
# of the registering source) tells when the code changed without a bump. A run's status
# records the fingerprint of the code its work began with, and a run reused or resumed
# under other code says so: once per registration in a process, not once per run.
_WARNED: set[str] = set()


def code_record(run_dir: RunDir, status: dict, ctx) -> dict:
    """The status field `uses`: {key: {version, origin, fingerprint}} of each versioned
    registration the run's spec uses. A resumed run keeps the fingerprints its earlier work
    was made with (warning where they differ), unless `restart` begins it again."""
    from ..specs.versions import registrations_of

    now = {key: {"version": r.version, "origin": r.origin, "fingerprint": r.fingerprint}
           for key, r in registrations_of(run_dir.spec).items()}
    if not now:
        return {}
    earlier = status.get("uses") if isinstance(status.get("uses"), dict) else {}
    if earlier and not ctx.restart:
        warn_changed_code(run_dir, ctx.progress, resuming=True, recorded=earlier)
        now = {key: earlier[key] if _same_version(earlier.get(key), entry) else entry for key, entry in now.items()}
    return {"uses": now}


def warn_changed_code(run_dir: RunDir, progress: Progress | None, *, resuming: bool = False,
                      recorded: dict | None = None) -> None:
    """Say, once per registration in this process, that a run reused (or resumed) was made
    with other code of a registration than the code registered now, at the same version."""
    from ..core.registry import version_of
    from ..core.ranks import is_writer

    recorded = run_dir.status_record().get("uses") if recorded is None else recorded
    if not isinstance(recorded, dict) or not is_writer():
        return
    for key, entry in sorted(recorded.items()):
        table, _, name = key.partition(":")
        current = version_of(table, name)
        if (key in _WARNED or current is None or not _same_version(entry, current) or not entry.get("fingerprint")
                or not current.fingerprint or entry["fingerprint"] == current.fingerprint):
            continue
        _WARNED.add(key)
        _say(progress, changed_code_message(run_dir, current, resuming))


def changed_code_message(run_dir: RunDir, current, resuming: bool) -> str:
    table, name, version = current.table, current.name, current.version
    bump = f"register_{table}('{name}', ..., version={version + 1 if isinstance(version, int) else '<new label>'})"
    where = run_dir.path
    head = (f"warning: {current.origin}, which registers the {table} '{name}' at version {version!r}, has changed "
            f"since run {run_dir.run_id} ")
    if resuming:
        return (head + "began with it: the run resumes work made with the old code, so its result would mix the "
                f"old and the new. If the change alters results, bump the version ({bump}): its specs get new run "
                f"ids, computed with the new code; or delete {where} to compute this run again from nothing "
                "(--restart retrains only the unit in progress, not the units finished before). If it does not "
                "alter results, nothing needs doing.")
    return (head + "was made with it: the result reused is the old code's. If the change alters results, bump the "
            f"version ({bump}): its specs get new run ids, computed with the new code; or delete {where} (and "
            "any other run made with the old code: `ticketlab runs` lists them) to compute it again under the same "
            "id; --restart does not recompute a finished run. If it does not alter results, nothing needs doing.")


def _same_version(entry: object, current) -> bool:
    version = current.version if not isinstance(current, dict) else current.get("version")
    return isinstance(entry, dict) and entry.get("version") == version


def _say(progress: Progress | None, message: str) -> None:
    # A quiet command's progress says nothing, but a result from other code must be told.
    if progress is None or type(progress) is Progress:
        print(f"ticketlab: {message}", file=sys.stderr)
    else:
        progress.note(message)


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
