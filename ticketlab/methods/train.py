"""`train`: one network trained from a seeded init (dense, or under a given mask)."""
from __future__ import annotations

import time

import torch

from ..context import RunContext
from ..data import load_dataset
from ..models import build_model
from ..spec import TrainSpec
from ..store import RunDir
from ..train import Trainer, to_steps

# Every run carves its validation split with this seed, so that runs with different
# seeds are still selected and compared on the same held-out examples.
VAL_SPLIT_SEED = 0


def prepare(spec: TrainSpec, ctx: RunContext):
    """Load the data and build the seeded model (the same init for the same seed)."""
    data = load_dataset(spec.dataset, data_dir=ctx.data_dir, val_size=spec.val_size,
                        val_seed=VAL_SPLIT_SEED, device=ctx.device)
    torch.manual_seed(spec.seed)
    model = build_model(spec.model, data.info.input_shape, data.info.num_classes)
    return data, model


def train_to_end(trainer: Trainer, run: RunDir, ctx: RunContext, description: str) -> float:
    """Resume from the run's checkpoint if any, train to the end, return seconds spent."""
    state = None if ctx.restart else run.load_checkpoint()
    if state is not None:
        trainer.load_state_dict(state)
        ctx.progress.note(f"{run.run_id}: resuming from step {trainer.step}/{trainer.total_steps}")
    ctx.progress.start(description, trainer.total_steps, trainer.step)
    started = time.perf_counter()
    try:
        trainer.run(progress=ctx.progress, checkpoint_every=to_steps(ctx.checkpoint_every, trainer.steps_per_epoch),
                    on_checkpoint=run.save_checkpoint,
                    on_eval=lambda record: _on_eval(record, trainer, run, ctx))
    finally:
        ctx.progress.stop()
    return time.perf_counter() - started


def _on_eval(record: dict, trainer: Trainer, run: RunDir, ctx: RunContext) -> None:
    run.write_json("history.json", trainer.history)
    line = (f"step {record['step']}/{trainer.total_steps} (epoch {record['epoch']:g}): "
            f"train loss {record['train_loss']:.4f}, test acc {record['test']['accuracy']:.4f}")
    if "val" in record:
        line += f", val acc {record['val']['accuracy']:.4f}"
    ctx.progress.note(line)


def summary(record: dict) -> dict:
    """The few numbers a table shows, from one evaluation record."""
    out = {"step": record["step"], "test_accuracy": record["test"]["accuracy"], "test_loss": record["test"]["loss"],
           "test_balanced_accuracy": record["test"]["balanced_accuracy"]}
    if "val" in record:
        out["val_accuracy"] = record["val"]["accuracy"]
    return out


def run_train(spec: TrainSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec, ctx)
    run.save_tensors("init.safetensors", model.state_dict())
    trainer = Trainer(spec, model, data, ctx.device)
    seconds = train_to_end(trainer, run, ctx, f"train {spec.model} on {spec.dataset}")
    run.save_tensors("model.safetensors", trainer.model.state_dict())
    final = trainer.history[-1]
    return {"metrics": {**summary(final), "train_seconds": round(seconds, 3)}, "final": final}
