"""`dst`: dynamic sparse training, SET (random regrowth) and RigL (gradient regrowth), and
gradual magnitude pruning (GMP, Zhu & Gupta 2017), the baseline they are compared with.

The network starts sparse (a random mask with uniform or ERK layer densities). Every
`update_every` steps until `stop`, each layer replaces a cosine-decayed fraction of its
active weights: the smallest magnitudes are dropped, as many are grown (RigL: largest
dense gradient of that step's batch; SET: at random). Grown weights start at zero with
no optimizer state; dropped ones are zeroed with theirs (`Trainer.set_mask`).

GMP starts dense and prunes by magnitude every `update_every` steps from `start` to
`stop` along the cubic schedule (`prune/gmp.py`), each layer to its density under
`distribution` (or one threshold, `global`); weights pruned stay pruned. The mask is
part of the training state, so a resumed run goes on from the mask it had.

With curves on (`--tensorboard`), each update writes `mask/changed` at its step: the mask
entries it flipped (dropped plus grown, or pruned).
"""
from __future__ import annotations

import torch

from ..specs.baselines import DstSpec
from .context import RunContext
from ..prune import resolve_layers
from ..prune.dst import drop_and_grow, drop_fraction_at, layer_densities, random_mask
from ..prune.gmp import gmp_mask, pruning_steps, sparsity_at
from ..sparse import Mask
from ..store import RunDir
from ..store.scalars import ScalarLog
from ..train import Trainer
from .curves import changed_entries, unit_curves
from .units import derived_seed, layer_report, prepare, train_unit


def note_changes(curves: ScalarLog | None, before: Mask, trainer: Trainer) -> None:
    """`mask/changed` at the update's step, when the unit writes curves."""
    if curves is not None and curves.on:
        curves.write({"mask/changed": changed_entries(before, trainer.mask)}, trainer.step)


class Rewiring:
    """The trainer hooks that rewire the mask every `every` steps until `stop`."""

    def __init__(self, spec: DstSpec, every: int, stop: int, ignore: set[str], curves: ScalarLog | None = None):
        self.spec, self.every, self.stop, self.ignore, self.curves = spec, every, stop, ignore, curves
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
        before = trainer.mask
        trainer.set_mask(new)
        self.grads = None
        self.updates += 1
        note_changes(self.curves, before, trainer)


class GradualPruning:
    """The trainer hook that prunes by magnitude along GMP's cubic schedule (`prune/gmp.py`)."""

    def __init__(self, spec: DstSpec, start: int, stop: int, every: int, targets: dict[str, float],
                 ignore: set[str], curves: ScalarLog | None = None):
        self.spec, self.start, self.stop, self.targets, self.ignore = spec, start, stop, targets, ignore
        self.curves = curves
        self.steps = pruning_steps(start, stop, every)

    def prune(self, trainer: Trainer) -> None:
        if trainer.step not in self.steps:
            return
        # Each layer's sparsity follows the schedule to its own final sparsity 1 - target.
        at = {n: 1 - sparsity_at(trainer.step, self.start, self.stop, 1 - d) for n, d in self.targets.items()}
        params = dict(trainer.model.named_parameters())
        scope = "global" if self.spec.distribution == "global" else "layerwise"
        before = trainer.mask
        trainer.set_mask(gmp_mask({n: params[n].detach() for n in trainer.mask}, trainer.mask, at, scope=scope,
                                  ignore=self.ignore))
        note_changes(self.curves, before, trainer)


def run_dst(spec: DstSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    shapes = {n: p.shape for n, p in model.named_parameters() if n in model.prunable_names}
    spread = "uniform" if spec.distribution == "global" else spec.distribution
    densities = layer_densities(shapes, spec.density, spread, ignore)
    if spec.method == "gmp":  # dense at the start, pruned as it trains
        mask = Mask({n: torch.ones(s, dtype=torch.bool, device=ctx.device) for n, s in shapes.items()})
    else:
        generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "dst-init"))
        mask = random_mask(shapes, densities, generator, ctx.device)
    trainer = Trainer(spec.train, model, data, ctx.device, mask=mask)
    curves = unit_curves(ctx, run)  # the hooks' mask updates and train_unit's evaluations, one log
    if spec.method == "gmp":
        start, stop = spec.gmp_window(trainer.total_steps)
        trainer.after_step = GradualPruning(spec, start, stop, trainer.steps(spec.update_every), densities,
                                            ignore, curves).prune
    else:
        stop = trainer.steps(spec.stop) if spec.stop else int(0.75 * trainer.total_steps)
        rewiring = Rewiring(spec, trainer.steps(spec.update_every), stop, ignore, curves)
        trainer.on_backward, trainer.after_step = rewiring.capture_grads, rewiring.rewire
    metrics = train_unit(trainer, run, ctx, f"dst {spec.method} at density {spec.density:g}", curves=curves)
    run.save_mask("mask.safetensors", trainer.mask)
    return {"metrics": {"method": spec.method, "density": round(trainer.mask.density(), 6), **metrics},
            **layer_report(trainer.mask, model),
            **({} if spec.method == "gmp" else {"initial_jaccard": round(trainer.mask.jaccard(mask), 6)})}
