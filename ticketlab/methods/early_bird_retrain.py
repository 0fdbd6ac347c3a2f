"""The early-bird ticket's retraining (`early_bird.py`): its unit `retrain/`, under the
drawn mask, from the early-bird weights at the step they were drawn (`ticket`) or from the
initial weights at step 0 (`init`)."""
from __future__ import annotations

from ..specs.early_bird import EarlyBirdSpec
from ..store import RunDir
from ..train import Trainer
from .context import RunContext
from .early_bird_masks import bn_penalty
from .units import train_unit


def retrain(spec: EarlyBirdSpec, run: RunDir, ctx: RunContext, trainer: Trainer, init: dict, found: dict) -> dict:
    """The retrained ticket's metrics and `retrain_steps`; `trainer` holds the search's model."""
    unit = run.child("retrain")
    if unit.finished:
        return unit.result()
    mask = run.load_mask("mask.safetensors", ctx.device)
    if spec.retrain == "ticket":
        trainer.model.load_state_dict(run.child("search").load_tensors("ticket.safetensors", ctx.device))
        trainer.step = found["search_steps"]  # the schedule and the data order go on from there
    else:
        trainer.model.load_state_dict(init)
    trainer.set_mask(mask)
    if spec.sparsity_penalty:
        trainer.on_backward = bn_penalty(spec.sparsity_penalty)
    if not unit.has("mask.safetensors"):  # beside its weights, for export
        unit.save_mask("mask.safetensors", mask)
    start = trainer.step
    description = f"early-bird retraining from the {'early-bird weights' if spec.retrain == 'ticket' else 'init'}"
    if start >= trainer.total_steps:
        # A search that never converged ends where training does: the ticket is scored as it is.
        ctx.progress.note(f"{description}: no step is left after a search of the whole duration")
        trainer.evaluate_now()
        unit.write_json("history.json", trainer.history)
    metrics = {**train_unit(trainer, unit, ctx, description), "retrain_steps": trainer.total_steps - start}
    unit.finish(metrics)
    return metrics
