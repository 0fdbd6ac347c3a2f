"""Training several units as one stacked computation (`train.batched`), resumably.

A batch resumes as a batch. Its members' checkpoints are committed together
(`store/group_checkpoint.py`), so after a kill every member stands at one step and the
batch trains on exactly as it would have; the final state is committed too before any
member finishes, so a kill while the members are being finished leaves the others
nothing to train again. Members found at different steps (a batch broken up by hand, or
units first trained alone) cannot all stack: those at one step train as a batch, a member
alone at its step on its own, equal to the batch to float tolerance.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from .context import RunContext
from .curves import unit_curves
from .units import best_validation, check_connected, checked_health, record_eval, resumed_state, summary, train_unit
from ..store import Unit
from ..store.group_checkpoint import save_group
from ..train import Trainer, to_steps


def train_units_batched(trainers: list[Trainer], units: list[Unit], ctx: RunContext, description: str, *,
                        snapshot_at: int | None = None,
                        on_snapshot: Callable[[int, dict], None] | None = None) -> list[dict]:
    """`train_unit` for several units at once: the same files, the same metrics, resumed
    from the members' checkpoints when they all stand at one step. `on_snapshot(i, state)`
    receives member i's full training state at step `snapshot_at` (IMP's rewind point)."""
    states = [resumed_state(unit, ctx.restart) for unit in units]
    at: dict[int, list[int]] = {}  # members by the step they resume from
    for i, state in enumerate(states):
        at.setdefault(state["step"] if state else 0, []).append(i)
    if len(at) > 1:
        ctx.progress.note(f"{description}: the members stand at steps {', '.join(map(str, sorted(at)))}; those "
                          "at one step train as a batch, the others on their own (equal to float tolerance)")
    out: dict[int, dict] = {}
    for step, members in sorted(at.items()):
        if len(members) == 1:
            i = members[0]
            out[i] = train_unit(trainers[i], units[i], ctx, description, snapshot_at=snapshot_at,
                                on_snapshot=None if on_snapshot is None else (lambda state, i=i: on_snapshot(i, state)))
            continue
        for i in members:
            if states[i] is not None:
                trainers[i].load_state_dict(states[i])
            else:
                check_connected(trainers[i], ctx, description)
        if step:
            ctx.progress.note(f"{description}: resuming the batch from step {step}/{trainers[0].total_steps}")
        snapshot = None if snapshot_at is not None and step > snapshot_at else snapshot_at  # as `train_unit`
        report = None if on_snapshot is None else (lambda j, state, members=members: on_snapshot(members[j], state))
        results = _train([trainers[i] for i in members], [units[i] for i in members], ctx, description, snapshot,
                         report)
        out.update(zip(members, results))
    return [out[i] for i in range(len(units))]


def _train(trainers: list[Trainer], units: list[Unit], ctx: RunContext, description: str,
           snapshot_at: int | None, on_snapshot: Callable[[int, dict], None] | None) -> list[dict]:
    from ..train.batched import BatchedTrainer

    batched = BatchedTrainer(trainers)
    curves = [unit_curves(ctx, unit) for unit in units]
    for log, trainer in zip(curves, trainers):
        log.begin(trainer.step)
    pending: dict[int, dict] = {}

    def checkpoint(i: int, state: dict) -> None:  # the batch calls it member by member at one step
        pending[i] = state
        if len(pending) == len(units):
            save_group(units, [pending.pop(j) for j in range(len(units))])

    ctx.progress.start(f"{description} ({len(trainers)} batched)", batched.total_steps, batched.step)
    started = time.perf_counter()
    options = dict(progress=ctx.progress, checkpoint_every=to_steps(ctx.checkpoint_every, batched.steps_per_epoch),
                   on_checkpoint=checkpoint,
                   on_eval=lambda i, record: record_eval(record, trainers[i], units[i], ctx, curves[i]))
    try:
        if snapshot_at is not None:
            batched.run(until=snapshot_at, **options)
            for i, trainer in enumerate(trainers):
                batched.write_back(i)
                on_snapshot(i, trainer.state_dict())
        batched.run(**options)
    finally:
        ctx.progress.stop()
        for log in curves:
            log.close()
    seconds = time.perf_counter() - started
    save_group(units, [trainer.state_dict() for trainer in trainers])  # the end, before any member finishes
    out = []
    for trainer, unit in zip(trainers, units):
        unit.save_tensors("model.safetensors", trainer.model.state_dict())
        out.append({**summary(trainer.history[-1], trainer.task), **best_validation(trainer.history, trainer.task),
                    "train_seconds": round(seconds / len(trainers), 3), "batched": len(trainers),
                    **checked_health(trainer, description, ctx)})
    return out
