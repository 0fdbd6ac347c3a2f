"""The early-bird search (`early_bird.py`): dense training, epoch by epoch, with the mask
drawn after each epoch and compared with the one before.

The search state (the distances so far and the last mask drawn) rides in every training
checkpoint of the unit, so an interrupted search resumes at its step with the same
distances. A checkpoint taken at an epoch's end precedes that epoch's draw, which the
resumed search makes from the same weights.
"""
from __future__ import annotations

import time

from ..specs.early_bird import EarlyBirdSpec
from ..store import Unit
from ..train import Trainer, to_steps
from .context import RunContext
from .early_bird_masks import TicketDraw, bn_penalty, drawn, mask_distance


def epochs_done(trainer: Trainer) -> int:
    epochs, rest = divmod(trainer.step, trainer.steps_per_epoch)
    return epochs + (rest > 0 and trainer.step >= trainer.total_steps)


def search(spec: EarlyBirdSpec, trainer: Trainer, unit: Unit, ctx: RunContext, draw: TicketDraw) -> dict:
    """Train until the ticket is drawn (or the duration ends); leaves the early-bird weights
    in `trainer.model` and returns the search's state: distances, drawn bits, steps."""
    if spec.sparsity_penalty:
        trainer.on_backward = bn_penalty(spec.sparsity_penalty)
    if ctx.compile:
        trainer.compile(ctx.compile)
    checkpoint = None if ctx.restart else unit.load_checkpoint()
    if checkpoint is not None:
        trainer.load_state_dict(checkpoint)
        state = {"distances": list(checkpoint["early_bird"]["distances"]),
                 "bits": dict(checkpoint["early_bird"]["bits"])}
        ctx.progress.note(f"early-bird search: resuming from step {trainer.step}/{trainer.total_steps} with "
                          f"{len(state['distances'])} mask distance(s)")
    else:
        state = {"distances": [], "bits": draw.bits(trainer.model)}  # the mask at init, as the code's first
    options = dict(progress=ctx.progress, checkpoint_every=to_steps(ctx.checkpoint_every, trainer.steps_per_epoch),
                   on_checkpoint=lambda s: unit.save_checkpoint({**s, "early_bird": dict(state)}),
                   on_eval=lambda record: on_eval(record, trainer, unit, ctx))
    ctx.progress.start("early-bird search", trainer.total_steps, trainer.step)
    started = time.perf_counter()
    try:
        while True:
            if len(state["distances"]) < epochs_done(trainer):  # this epoch's draw
                bits = draw.bits(trainer.model)
                state["distances"].append(mask_distance(state["bits"], bits))
                state["bits"] = bits
                ctx.progress.note(f"epoch {len(state['distances'])}: mask distance {state['distances'][-1]:.4f}")
            if drawn(state["distances"], spec.window, spec.threshold) or trainer.step >= trainer.total_steps:
                break
            trainer.run(until=(epochs_done(trainer) + 1) * trainer.steps_per_epoch, **options)
    finally:
        ctx.progress.stop()
    unit.write_json("history.json", trainer.history)
    return {**state, "steps": trainer.step, "converged": drawn(state["distances"], spec.window, spec.threshold),
            "seconds": round(time.perf_counter() - started, 3)}  # this attempt's, as a unit's train_seconds


def on_eval(record: dict, trainer: Trainer, unit: Unit, ctx: RunContext) -> None:
    unit.write_json("history.json", trainer.history)
    key = trainer.task.selection
    ctx.progress.note(f"step {record['step']}/{trainer.total_steps} (epoch {record['epoch']:g}): train loss "
                      f"{record['train_loss']:.4f}, test {key} {record['test'][key]:.4f}")
