"""The `random` control of a supermask run: a random mask on the same frozen weights.

Each layer keeps as many weights as the edge-popup mask keeps there, chosen uniformly at
random from a seed of the run (layers left dense stay dense). Nothing is trained: the
frozen weights times that mask, BatchNorm running statistics (if any) recomputed
(`train.averaging.recalibrate_batchnorm`, no augmentation) over `BN_SAMPLES` training
examples drawn by a fixed seed (all of a smaller set; the same wherever the data lives),
then evaluated on the test (and validation) split. The child unit holds its mask, model
and result.
"""
from __future__ import annotations

import copy

import torch

from ..prune import resolve_layers
from ..prune.random import random_mask_like
from ..prune.supermask_net import SupermaskNet
from ..sparse import Mask
from ..store import Unit
from ..train import Trainer
from ..train.averaging import has_batchnorm, recalibrate_batchnorm
from ..train.evaluate import evaluate
from .context import RunContext
from .units import best_validation, derived_seed, layer_report, summary

BN_SAMPLES = 10000  # as Lottery Pools' bn_samples


def random_control(spec, trainer: Trainer, net: SupermaskNet, mask: Mask, unit: Unit, ctx: RunContext) -> dict:
    if not unit.finished:
        base = net.net
        ignore = set(resolve_layers(spec.dense_layers, base.prunable_names, base.output_name))
        generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "supermask-random"))
        control = random_mask_like(mask, "layerwise", generator, ignore)
        model = copy.deepcopy(base)
        with torch.no_grad():
            params = dict(model.named_parameters())
            for name in control:
                params[name].mul_(control[name].to(params[name].device, params[name].dtype))
        recalibrated = has_batchnorm(model) and recalibrate_batchnorm(model, bn_inputs(trainer, spec.train.seed))
        record = {"step": 0, "test": scored(model, trainer, "test")}
        if trainer.data.val is not None:
            record["val"] = scored(model, trainer, "val")
        unit.save_mask("mask.safetensors", control)
        unit.save_tensors("model.safetensors", model.state_dict())
        unit.finish({"density": round(control.density(), 6), **summary(record, trainer.task),
                     **best_validation([record] if "val" in record else [], trainer.task),
                     "batchnorm_recalibrated": recalibrated, **layer_report(control, model)})
        key = trainer.task.selection
        ctx.progress.note(f"supermask random control at density {control.density():.4g}: test {key} "
                          f"{record['test'][key]:.4f}")
    return unit.result()


def bn_inputs(trainer: Trainer, seed: int) -> torch.Tensor:
    x = trainer.data.train.x
    generator = torch.Generator().manual_seed(derived_seed(seed, "supermask-bn"))
    chosen = torch.randperm(len(x), generator=generator)[:BN_SAMPLES]
    return x[chosen.to(x.device)].to(trainer.device)


def scored(model: torch.nn.Module, trainer: Trainer, split: str) -> dict:
    arrays = getattr(trainer.data, split)
    return evaluate(model, arrays.x, arrays.y, trainer.data.info.num_classes, task=trainer.task)
