"""The kit every method shares: load the data, build a seeded model, and train one unit of
work (resume, progress, best-validation weights, summary), alone or batched."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import torch

from .context import RunContext
from .curves import eval_scalars, unit_curves
from .health import health_of
from ..core.errors import DisconnectedMaskError, SpecError
from ..data import load_dataset
from ..models import build_model
from ..prune.heads import head_report, heads_left
from ..specs import TrainSpec
from ..sparse import Mask
from ..sparse.connectivity import disconnection
from ..store import Unit
from ..store.scalars import ScalarLog
from ..train import Trainer, to_steps
from ..train.task import Task, classification
from ..train.task_names import CLASSIFICATION, effective_task, task_kind

# Every run carves its validation split with this seed, so that runs with different
# seeds are still selected and compared on the same held-out examples.
VAL_SPLIT_SEED = 0


def load_train_data(spec: TrainSpec, ctx: RunContext):
    return load_dataset(spec.dataset, data_dir=ctx.data_dir, val_size=spec.val_size,
                        val_seed=VAL_SPLIT_SEED, device=ctx.device, data_budget=ctx.data_budget, note=ctx.progress.note)


def prepare(spec: TrainSpec, ctx: RunContext):
    """Load the data and build the seeded model (the same init for the same seed and
    `spec.init`)."""
    data = load_train_data(spec, ctx)
    return data, seeded_model(spec, data.info, spec.seed)


def require_classification(spec: TrainSpec, info, method: str) -> None:
    """Refuse a regression task in a method that scores accuracy (per class, per subset, on
    corrupted sets): its numbers would mean nothing for outputs that are not classes."""
    if task_kind(spec.task, info) != CLASSIFICATION:
        raise SpecError(f"{method} scores classification accuracy, but this run's task is "
                        f"'{effective_task(spec.task, info)}' (a regression). Use imp, pai, dst, lmc or pools "
                        "for a regression task, or a classification dataset here.")


def derived_seed(*key) -> int:
    """A seed that is a pure function of `key`, unrelated to nearby keys."""
    return int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=8).digest(), "little") >> 1


def layer_report(mask: Mask, model: torch.nn.Module | None = None) -> dict:
    """A unit result's `layers` (each prunable weight's kept count and density) and, for a
    model with attention, its `heads` (per layer: heads left, each head's density) and the
    total `heads_left`. Spread into a result: `{..., **layer_report(mask, model)}`."""
    report = {"layers": {n: {"kept": int(mask[n].sum()), "size": mask[n].numel(),
                             "density": round(float(mask[n].float().mean()), 6)} for n in mask}}
    heads = head_report(mask, model) if model is not None else {}
    if heads:
        report.update(heads=heads, heads_left=heads_left(heads))
    return report


def seeded_model(spec: TrainSpec, info, seed: int):
    """`spec`'s model drawn by `spec.init` from `seed` (a reinit control's seed gives fresh
    weights from the same distribution)."""
    torch.manual_seed(seed)
    return build_model(spec.model, info.input_shape, info.num_classes, init=spec.init, vocab_size=info.vocab_size)


def train_unit(trainer: Trainer, unit: Unit, ctx: RunContext, description: str, *,
               snapshot_at: int | None = None, on_snapshot: Callable[[dict], None] | None = None,
               curves: ScalarLog | None = None) -> dict:
    """Resume `unit` from its checkpoint if any, train to the end, save the final (and
    best-validation) weights, and return the unit's summary metrics.

    `on_snapshot(state)` receives the full training state at step `snapshot_at` (how IMP
    keeps its rewind point), also when the unit resumes from a checkpoint before it.
    `curves`: the unit's TensorBoard log when the method's hooks write to it too (DST's
    mask updates); by default the unit's own, closed when it ends either way.
    """
    curves = unit_curves(ctx, unit) if curves is None else curves
    if ctx.compile:
        trainer.compile(ctx.compile)
    state = resumed_state(unit, ctx.restart)
    if state is not None:
        trainer.load_state_dict(state)
        ctx.progress.note(f"{description}: resuming from step {trainer.step}/{trainer.total_steps}")
    else:
        check_connected(trainer, ctx, description)
    curves.begin(trainer.step)
    if snapshot_at is not None and trainer.step > snapshot_at:
        # The snapshot is taken at its step, before training goes on, so a checkpoint past
        # it was written after it was kept: there is nothing to take again.
        snapshot_at = None
    ctx.progress.start(description, trainer.total_steps, trainer.step)
    started = time.perf_counter()
    options = dict(progress=ctx.progress, checkpoint_every=to_steps(ctx.checkpoint_every, trainer.steps_per_epoch),
                   on_checkpoint=unit.save_checkpoint,
                   on_eval=lambda record: record_eval(record, trainer, unit, ctx, curves))
    try:
        if snapshot_at is not None:
            trainer.run(until=snapshot_at, **options)
            on_snapshot(trainer.state_dict())
        trainer.run(**options)
    finally:
        ctx.progress.stop()
        curves.close()
    seconds = time.perf_counter() - started
    unit.save_tensors("model.safetensors", trainer.model.state_dict())
    return {**summary(trainer.history[-1], trainer.task), **best_validation(trainer.history, trainer.task),
            "train_seconds": round(seconds, 3),
            **checked_health(trainer, description, ctx)}


def resumed_state(unit: Unit, restart: bool = False) -> dict | None:
    """The unit's checkpoint, once a batch commit a kill cut short is settled (a unit that
    trained in a batch may resume alone); None, and no commit left, when it starts over."""
    from ..store.group_checkpoint import drop_pending, settle
    if restart:
        drop_pending(unit)
        return None
    settle(unit)
    return unit.load_checkpoint()


def check_connected(trainer: Trainer, ctx: RunContext, description: str) -> None:
    """Refuse, before training, a mask that leaves no path of kept weights from the input to
    the output: such a network trains to chance whatever the method (`--allow-disconnected`
    trains it anyway, and its run is then recorded as dead)."""
    if trainer.mask is None:
        return
    where = disconnection(trainer.model, trainer.mask, tuple(trainer.data.info.input_shape))
    if where is None:
        return
    message = f"{description}: the mask leaves no path of kept weights from the input to the output at {where}"
    if ctx.allow_disconnected:
        ctx.progress.note(f"{message}; training it anyway, as asked")
        return
    raise DisconnectedMaskError(f"{message}. The network cannot learn. Choose a higher density, keep the layer "
                                "dense (--dense-layer), or pass --allow-disconnected to train it anyway.")


def record_eval(record: dict, trainer: Trainer, unit: Unit, ctx: RunContext, curves: ScalarLog) -> None:
    unit.write_json("history.json", trainer.history)
    if curves.on:
        curves.write(eval_scalars(record, trainer), record["step"])
    if "val" in record and record is trainer.task.best([r for r in trainer.history if "val" in r]):
        # The weights a Lottery Pool interpolates: each level's best validation checkpoint.
        unit.save_tensors("best.safetensors", trainer.model.state_dict())
    key = trainer.task.selection  # accuracy, or a regression's loss
    short = {"accuracy": "acc"}.get(key, key)
    line = (f"step {record['step']}/{trainer.total_steps} (epoch {record['epoch']:g}): "
            f"train loss {record['train_loss']:.4f}, test {short} {record['test'][key]:.4f}")
    if "val" in record:
        line += f", val {short} {record['val'][key]:.4f}"
    ctx.progress.note(line)


def checked_health(trainer: Trainer, description: str, ctx: RunContext) -> dict:
    """The unit's `health` keys when its network did not learn, said as it finishes."""
    found = health_of(trainer.history, getattr(trainer.model, "num_classes", trainer.data.info.num_classes),
                      trainer.task.kind)
    if found:
        ctx.progress.note(f"{description}: {found['health']}: {found['health_reason']}")
    return found


def summary(record: dict, task: Task | None = None) -> dict:
    """The few numbers a table shows, from one evaluation record (None: classification's).
    A regression unit has its loss and no accuracy keys."""
    if task is not None and task.kind != CLASSIFICATION:
        return {"step": record["step"], "test_loss": record["test"]["loss"],
                **({"val_loss": record["val"]["loss"]} if "val" in record else {})}
    out = {"step": record["step"], "test_accuracy": record["test"]["accuracy"], "test_loss": record["test"]["loss"],
           "test_balanced_accuracy": record["test"]["balanced_accuracy"]}
    if "val" in record:
        out["val_accuracy"] = record["val"]["accuracy"]
    return out


def best_validation(history: list[dict], task: Task | None = None) -> dict:
    """Step and metrics at the best validation record (early-stopping view), if any: by the
    task's ranking metric, accuracy (highest) or, for regression, loss (lowest)."""
    with_val = [r for r in history if "val" in r]
    if not with_val:
        return {}
    task = task or classification()
    best = task.best(with_val)
    if task.kind != CLASSIFICATION:
        return {"best_val_step": best["step"], "best_val_loss": best["val"]["loss"],
                "test_loss_at_best_val": best["test"]["loss"]}
    return {"best_val_step": best["step"], "best_val_accuracy": best["val"]["accuracy"],
            "test_accuracy_at_best_val": best["test"]["accuracy"]}
