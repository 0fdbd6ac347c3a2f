"""`train`: one network trained from a seeded init, alone or with other seeds batched."""
from __future__ import annotations

from ..specs import TrainSpec
from ..store import RunDir
from ..train import Trainer
from .context import RunContext
from .units import load_train_data, prepare, seeded_model, train_unit
from .units_batched import train_units_batched


def run_train(spec: TrainSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec, ctx)
    run.save_tensors("init.safetensors", model.state_dict())
    trainer = Trainer(spec, model, data, ctx.device)
    metrics = train_unit(trainer, run, ctx, f"train {spec.model} on {spec.dataset}")
    return {"metrics": metrics, "final": trainer.history[-1]}


def batch_key(spec: TrainSpec) -> str:
    """Trainings that differ only in their seed can be trained together."""
    return "train:" + spec.replace(seed=0).run_id


def run_train_batched(specs: list[TrainSpec], runs: list[RunDir], ctx: RunContext) -> list[dict]:
    """`run_train` for specs that differ only in their seed, trained as one stacked
    computation: the data loaded once, each member with its own init and data order."""
    first = specs[0]
    data = load_train_data(first, ctx)
    trainers = []
    for spec, run in zip(specs, runs):
        model = seeded_model(spec, data.info, spec.seed)
        run.save_tensors("init.safetensors", model.state_dict())
        trainers.append(Trainer(spec, model, data, ctx.device))
    seeds = ",".join(str(s.seed) for s in specs)
    metrics = train_units_batched(trainers, runs, ctx, f"train {first.model} on {first.dataset}, seeds {seeds}")
    return [{"metrics": m, "final": t.history[-1]} for m, t in zip(metrics, trainers)]
