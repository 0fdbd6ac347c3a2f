"""`pai`: prune at initialization by SNIP, GraSP or SynFlow (or at random), then train.

With `score_at` > 0 the dense network first trains to that step, is scored there, and
training goes on from that state under the mask (pruning "at a rewind point").
"""
from __future__ import annotations

import itertools

import torch

from .context import RunContext
from ..prune import resolve_layers
from ..prune.dst import layer_densities, random_mask
from ..prune import pai_mask
from ..sparse import Mask
from ..specs.baselines import PaiSpec
from ..store import RunDir
from ..train import Trainer, to_steps
from .units import derived_seed, layer_report, load_train_data, prepare, seeded_model, train_unit
from .units_batched import train_units_batched
from ..store.group_checkpoint import settle


def choose_mask(spec: PaiSpec, trainer: Trainer, ignore: set[str]) -> Mask:
    model = trainer.model
    if spec.method == "random":
        shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
        generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "pai-random"))
        return random_mask(shapes, layer_densities(shapes, spec.density, "uniform", ignore), generator,
                           trainer.device)
    batches = itertools.islice(trainer.loader.epoch(0), spec.batches)
    return pai_mask(spec.method, model, batches, spec.density, ignore=ignore, iterations=spec.iterations,
                    loss=trainer.task.loss)


def batch_key(spec: PaiSpec) -> str | None:
    """PaI runs that start training at step 0 with the same training settings but for the
    seed (any method, density or dense layers) can be trained together."""
    return "pai:" + spec.train.replace(seed=0).run_id if to_steps(spec.score_at, 1) == 0 else None


def run_pai_batched(specs: list[PaiSpec], runs: list[RunDir], ctx: RunContext) -> list[dict]:
    """`run_pai` for runs of one `batch_key`: each scored and masked at its own init,
    then all trained as one stacked computation (`train.batched`), which resumes as one."""
    data = load_train_data(specs[0].train, ctx)
    trainers = []
    for spec, run in zip(specs, runs):
        model = seeded_model(spec.train, data.info, spec.train.seed)
        settle(run)  # a first commit cut between its renames holds the mask too
        if run.has("checkpoint.pt") and not ctx.restart:  # a batch cut short: its checkpoint carries the mask
            trainers.append(Trainer(spec.train, model, data, ctx.device))
        else:
            trainers.append(masked_trainer(spec, model, data, run, ctx))
    names = ", ".join(f"{s.method} {s.density:g}" for s in specs)
    metrics = train_units_batched(trainers, runs, ctx, f"pai {names}")
    return [pai_result(s, t, m) for s, t, m in zip(specs, trainers, metrics)]


def run_pai(spec: PaiSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    if run.has("checkpoint.pt") and not ctx.restart:  # a checkpoint carries its mask: resume as it is
        trainer = Trainer(spec.train, model, data, ctx.device)
    else:
        trainer = masked_trainer(spec, model, data, run, ctx)
    return pai_result(spec, trainer, train_unit(trainer, run, ctx, f"pai {spec.method} at density {spec.density:g}"))


def masked_trainer(spec: PaiSpec, model, data, run: RunDir, ctx: RunContext) -> Trainer:
    """A trainer of `model` at `score_at` (dense training until then), under its PaI mask (saved)."""
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    trainer = Trainer(spec.train, model, data, ctx.device)
    trainer.run(until=trainer.steps(spec.score_at))
    trainer.clear_history()
    mask = choose_mask(spec, trainer, ignore)
    trainer.set_mask(mask)
    run.save_mask("mask.safetensors", mask)
    return trainer


def pai_result(spec: PaiSpec, trainer: Trainer, metrics: dict) -> dict:
    mask = trainer.mask
    return {"metrics": {"method": spec.method, "density": round(mask.density(), 6), **metrics},
            **layer_report(mask, trainer.model)}
