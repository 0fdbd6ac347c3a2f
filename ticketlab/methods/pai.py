"""`pai`: prune at initialization by SNIP, GraSP or SynFlow (or at random), then train.

With `score_at` > 0 the dense network first trains to that step, is scored there, and
training goes on from that state under the mask (pruning "at a rewind point").
"""
from __future__ import annotations

import itertools

import torch

from ..context import RunContext
from ..prune import resolve_layers
from ..prune.dst import layer_densities, random_mask
from ..prune import pai_mask
from ..sparse import Mask
from ..baseline_specs import PaiSpec
from ..store import RunDir
from ..train import Trainer
from .train import derived_seed, layer_report, prepare, train_unit


def choose_mask(spec: PaiSpec, trainer: Trainer, ignore: set[str]) -> Mask:
    model = trainer.model
    if spec.method == "random":
        shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
        generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "pai-random"))
        return random_mask(shapes, layer_densities(shapes, spec.density, "uniform", ignore), generator,
                           trainer.device)
    batches = itertools.islice(trainer.loader.epoch(0), spec.batches)
    return pai_mask(spec.method, model, batches, spec.density, ignore=ignore, iterations=spec.iterations)


def run_pai(spec: PaiSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    trainer = Trainer(spec.train, model, data, ctx.device)
    if not run.has("checkpoint.pt") or ctx.restart:  # a checkpoint carries its mask: resume as it is
        trainer.run(until=trainer.steps(spec.score_at))
        trainer.clear_history()
        mask = choose_mask(spec, trainer, ignore)
        trainer.set_mask(mask)
        run.save_mask("mask.safetensors", mask)
    metrics = train_unit(trainer, run, ctx, f"pai {spec.method} at density {spec.density:g}")
    mask = trainer.mask
    return {"metrics": {"method": spec.method, "density": round(mask.density(), 6), **metrics},
            "layers": layer_report(mask)}
