"""`elastic`: elastic lottery tickets (E-LTH, Chen et al., NeurIPS 2021).

The ticket of one IMP level (its mask, and the rewind-point weights with BatchNorm
buffers) is mapped block by block onto another depth of the model family
(`models/elastic.py`), then trained from the rewind step k with the source's training
setting, on the target model (and `target_dataset`, for transfer). The optimizer starts
fresh at step k: its state is keyed by parameter position and does not map between
depths; the schedule and the data order resume at k as in IMP.

Units: `ticket/` (the elastic ticket) and one per control, as IMP's controls:
`reinit` (the transformed mask on a fresh init of the target, from step 0) and `random`
(a random mask with the transformed mask's per-layer densities, on the transformed
weights, from step k). With `target_dataset`, k is the source's rewind step in
iterations, whatever the target dataset's epoch length. The shuffled-replica ablation
is its own run
(`shuffle_replicas`): each replicated block's mask is permuted within each tensor.
"""
from __future__ import annotations

import copy

import torch

from .context import RunContext
from ..models.base import block_stages
from ..models.elastic import replicas, transform
from ..prune import random_mask_like
from ..sparse import Mask
from ..specs import ElasticSpec
from ..store import RunDir, Unit
from ..train import Trainer
from .imp import ImpJob
from .units import derived_seed, layer_report, prepare, require_classification, seeded_model, train_unit


def stage_densities(mask: Mask, blocks: list[list[str]]) -> list[float]:
    """The density of each stage's blocks (the pruned weights inside them)."""
    out = []
    for prefixes in blocks:
        names = [n for n in mask if any(n.startswith(p + ".") for p in prefixes)]
        kept, size = sum(int(mask[n].sum()) for n in names), sum(mask[n].numel() for n in names)
        out.append(round(kept / size, 6) if size else 1.0)
    return out


def shuffle_replicas(mask: Mask, prefixes: list[str], generator: torch.Generator) -> Mask:
    """The ablation: every tensor of a replicated block gets a random permutation of its mask
    (the same count, so the same density, at random places)."""
    out = {}
    for name, value in mask.items():
        if any(name.startswith(p + ".") for p in prefixes):
            flat = value.flatten()
            value = flat[torch.randperm(flat.numel(), generator=generator).to(flat.device)].view_as(value)
        out[name] = value
    return Mask(out)


class ElasticJob:
    def __init__(self, spec: ElasticSpec, run: RunDir, ctx: RunContext):
        self.spec, self.run, self.ctx = spec, run, ctx
        self.source = ctx.sources["source"]
        source_job = ImpJob(spec.source, self.source, ctx)
        self.train = spec.train
        self.data, self.model = prepare(self.train, ctx)
        require_classification(self.train, self.data.info, "Elastic tickets")
        source_model = source_job.model
        self.blocks = (block_stages(source_model, "source"), block_stages(self.model, "target"))
        self.mapping = spec.block_mapping(source_model, self.model)
        self.rewind_step = source_job.rewind_step
        rewind = (source_job.init_state if self.rewind_step == 0 else
                  self.source.load_checkpoint("rewind.pt")["model"])
        shapes = {k: v.shape for k, v in self.model.state_dict().items()}
        self.state = transform(rewind, shapes, *self.blocks, self.mapping)
        source_mask = self.source.level(spec.level).load_mask("mask.safetensors")
        self.source_mask = source_mask
        self.mask = Mask(transform(dict(source_mask), {n: shapes[n] for n in self.model.prunable_names}, *self.blocks,
                                   self.mapping))
        if spec.shuffle_replicas:
            generator = torch.Generator().manual_seed(derived_seed(self.train.seed, spec.level, "shuffle"))
            self.mask = shuffle_replicas(self.mask, replicas(self.blocks[1], self.mapping), generator)

    def trainer(self, mask: Mask, state: dict | None, step: int) -> Trainer:
        model = copy.deepcopy(self.model)
        if state is not None:
            model.load_state_dict(state)
        trainer = Trainer(self.train, model, self.data, self.ctx.device)
        trainer.step = step
        trainer.set_mask(mask)
        return trainer

    def train_unit(self, unit: Unit, trainer: Trainer, mask: Mask, description: str, **extra) -> dict:
        if unit.finished:
            return unit.result()
        unit.save_mask("mask.safetensors", mask)
        metrics = train_unit(trainer, unit, self.ctx, description)
        result = {"density": round(mask.density(), 6), "kept": mask.kept(), "size": mask.size(),
                  "stage_densities": stage_densities(mask, self.blocks[1]), **extra, **metrics,
                  **layer_report(mask, trainer.model)}
        unit.finish(result)
        return result

    def ticket(self) -> dict:
        name = f"elastic {self.spec.source.train.model} level {self.spec.level} -> {self.spec.target}"
        return self.train_unit(self.run.child("ticket"), self.trainer(self.mask, self.state, self.rewind_step),
                               self.mask, name)

    def control(self, name: str) -> dict:
        seed = derived_seed(self.train.seed, self.spec.level, "elastic", name)
        if name == "reinit":
            mask, model = self.mask, seeded_model(self.train, self.data.info, seed)
            trainer = self.trainer(mask, model.state_dict(), 0)
        else:
            mask = random_mask_like(self.mask, "layerwise", torch.Generator().manual_seed(seed))
            trainer = self.trainer(mask, self.state, self.rewind_step)
        return self.train_unit(self.run.child(name), trainer, mask, f"elastic control {name}", control=name)


def run_elastic(spec: ElasticSpec, run: RunDir, ctx: RunContext) -> dict:
    job = ElasticJob(spec, run, ctx)
    # Each file on its own: a run killed between the two writes still gets the second.
    if not run.has("init.safetensors"):
        run.save_tensors("init.safetensors", job.state)  # the transformed rewind-point weights
    if not run.has("mask.safetensors"):
        run.save_mask("mask.safetensors", job.mask)
    ticket = job.ticket()
    controls = {name: job.control(name) for name in spec.controls}
    source_level = job.source.level(spec.level).result()
    metrics = {"test_accuracy": ticket["test_accuracy"], "density": ticket["density"], "level": spec.level,
               "source_density": source_level["density"], "source_test_accuracy": source_level["test_accuracy"],
               "step": ticket["step"]}
    return {"metrics": metrics, "mapping": job.mapping, "rewind_step": job.rewind_step,
            "source_stage_densities": stage_densities(job.source_mask, job.blocks[0]),
            "ticket": ticket, "controls": controls}
