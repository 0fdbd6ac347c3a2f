"""`dst`: dynamic sparse training, SET (random regrowth) and RigL (gradient regrowth).

The network starts sparse (a random mask with uniform or ERK layer densities). Every
`update_every` steps until `stop`, each layer replaces a cosine-decayed fraction of its
active weights: the smallest magnitudes are dropped, as many are grown (RigL: largest
dense gradient of that step's batch; SET: at random). Grown weights start at zero with
no optimizer state; dropped ones are zeroed with theirs (`Trainer.set_mask`).
"""
from __future__ import annotations

import torch

from ..specs.baselines import DstSpec
from .context import RunContext
from ..prune import resolve_layers
from ..prune.dst import drop_and_grow, drop_fraction_at, layer_densities, random_mask
from ..store import RunDir
from ..train import Trainer
from .units import derived_seed, layer_report, prepare, train_unit


class Rewiring:
    """The trainer hooks that rewire the mask every `every` steps until `stop`."""

    def __init__(self, spec: DstSpec, every: int, stop: int, ignore: set[str]):
        self.spec, self.every, self.stop, self.ignore = spec, every, stop, ignore
        self.grads: dict[str, torch.Tensor] | None = None
        self.updates = 0

    def is_update(self, steps_done: int) -> bool:
        return steps_done % self.every == 0 and 0 < steps_done <= self.stop

    def capture_grads(self, trainer: Trainer) -> None:
        if self.spec.method == "rigl" and self.is_update(trainer.step + 1):
            params = dict(trainer.model.named_parameters())
            self.grads = {n: params[n].grad.detach().clone() for n in trainer.mask}

    def rewire(self, trainer: Trainer) -> None:
        if not self.is_update(trainer.step):
            return
        fraction = drop_fraction_at(trainer.step, self.stop, self.spec.drop_fraction)
        generator = torch.Generator().manual_seed(derived_seed(self.spec.train.seed, "dst", trainer.step))
        params = dict(trainer.model.named_parameters())
        new = drop_and_grow({n: params[n].detach() for n in trainer.mask}, trainer.mask, fraction,
                            method=self.spec.method, grads=self.grads, generator=generator, ignore=self.ignore)
        trainer.set_mask(new)
        self.grads = None
        self.updates += 1


def run_dst(spec: DstSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
    generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "dst-init"))
    mask = random_mask(shapes, layer_densities(shapes, spec.density, spec.distribution, ignore), generator,
                       ctx.device)
    trainer = Trainer(spec.train, model, data, ctx.device, mask=mask)
    stop = trainer.steps(spec.stop) if spec.stop else int(0.75 * trainer.total_steps)
    rewiring = Rewiring(spec, trainer.steps(spec.update_every), stop, ignore)
    trainer.on_backward, trainer.after_step = rewiring.capture_grads, rewiring.rewire
    metrics = train_unit(trainer, run, ctx, f"dst {spec.method} at density {spec.density:g}")
    run.save_mask("mask.safetensors", trainer.mask)
    return {"metrics": {"method": spec.method, "density": round(trainer.mask.density(), 6), **metrics},
            **layer_report(trainer.mask, model),
            "initial_jaccard": round(trainer.mask.jaccard(mask), 6)}
