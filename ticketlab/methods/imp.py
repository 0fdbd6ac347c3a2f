"""`imp`: iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al.
2020; Renda et al. 2020), and its controls at the same densities.

Layout of the run directory: `init.safetensors` (theta_0), `rewind.pt` (the full training
state at the rewind step, when k > 0), and one unit per level, `level_LL/` (mask, final
weights, best-validation weights, history, result), with each control in a unit of its
own below it (`level_LL/reinit/`, ...). Every unit resumes on its own.

How a level starts (`Rewind`):
- weight rewinding (`init`, `1000it`, `2ep`): the rewind point's weights, optimizer state,
  schedule position and data position, under the new mask;
- learning-rate rewinding (`lr[:k]`): the previous level's final weights, fresh optimizer,
  schedule and data replayed from step k;
- fine-tuning (`finetune[:k]`): the previous level's final weights, T - k steps at the
  schedule's final learning rate.
How a level prunes (magnitude, N:M or whole channels) is its scope's (`imp_pruning.py`).
Controls start as the trunk's level does, with another mask: `random*` a random mask of
the ticket's density, `random_channels` as many channels per group as the ticket at random
(channel scope), `oneshot` the dense network's largest final weights in one step,
`heads` that mask with whole attention heads (largest weight norm) in place of the attention's
weights, about the ticket's count of them (`prune/heads.py`), a structured baseline.
`reinit` keeps the ticket's mask and trains a fresh init (drawn by the spec's `init`) as
the ticket trains: from the rewind step k with a fresh optimizer, as OpenLTH's
`randomly_reinitialize` branch does (`lottery/branch/randomly_reinitialize.py`, start
step `train_start_step`), and at the final learning rate under fine-tuning.

Under lr/finetune, the trunk's level starts from the previous level's final weights,
which are exact zeros outside the previous mask: a random mask laid over them would keep
mostly zeros (about 90% of its weights at 10% density), a crippled control. So the
random and one-shot controls start from the dense network's final weights, as one-shot
pruning with retraining does: the random control is random pruning of the trained dense
network, retrained as the ticket is (Renda et al. 2020 compare against pruning the
trained network and retraining it; their random-pruning reference is that with a random
mask). Every kept weight of a control is then a trained nonzero weight, as the ticket's
are (spec version 2 of these IMP runs).
"""
from __future__ import annotations

import copy
import math

import torch

from .context import RunContext
from ..prune import parse_rates, random_mask_like, resolve_layers
from ..prune.heads import head_mask
from ..sparse import Mask
from ..specs import ImpSpec
from ..store import RunDir, Unit
from ..train import Trainer
from .imp_pruning import LevelPruner
from .units import derived_seed, layer_report, prepare, seeded_model, train_unit
from .units_batched import train_units_batched

RANDOM_CONTROLS = {"random": "layerwise", "random_global": "global", "random_uniform": "uniform"}


class ImpJob:
    def __init__(self, spec: ImpSpec, run: RunDir, ctx: RunContext, data=None):
        self.spec, self.run, self.ctx = spec, run, ctx
        if data is None:
            self.data, self.model = prepare(spec.train, ctx)
        else:  # seeds trained together share one copy of the data
            self.data, self.model = data, seeded_model(spec.train, data.info, spec.train.seed)
        if not run.has("init.safetensors"):
            run.save_tensors("init.safetensors", self.model.state_dict())
        self.init_state = run.load_tensors("init.safetensors")
        names, output = self.model.prunable_names, self.model.output_name
        self.rates = {n: r for sel, r in parse_rates(spec.layer_rates)
                      for n in resolve_layers([sel], names, output, rates=True)}
        self.ignore = set(resolve_layers(spec.dense_layers, names, output))
        self.rewind = spec.rewind_plan
        self._rewind_state: dict | None = None  # read from rewind.pt once, on first use
        self._pruner: LevelPruner | None = None
        steps_per_epoch = math.ceil(len(self.data.train) / spec.train.batch_size)
        self.rewind_step = self.rewind.step.steps(steps_per_epoch)

    # -- building blocks ----------------------------------------------------------------
    def make_trainer(self, model: torch.nn.Module, mask: Mask | None = None) -> Trainer:
        return Trainer(self.spec.train, model, self.data, self.ctx.device, mask=mask)

    def fresh_model(self, state: dict | None = None) -> torch.nn.Module:
        model = copy.deepcopy(self.model)
        model.load_state_dict(state if state is not None else self.init_state)
        return model

    def level_unit(self, level: int) -> Unit:
        return self.run.level(level)

    @property
    def pruner(self) -> LevelPruner:
        """The scope's pruning (`imp_pruning.py`), made on first use."""
        if self._pruner is None:
            self._pruner = LevelPruner(self.spec, self.model, self.rates, self.ignore, network=self.fresh_model,
                                       batches=lambda model: self.make_trainer(model).loader.epoch(0))
        return self._pruner

    def start(self, mask: Mask, level: int, source_weights: dict | None = None,
              model: torch.nn.Module | None = None) -> Trainer:
        """A trainer positioned where this level's training begins (see the module docstring);
        `model` (a reinit control's fresh draw) starts at step k with a fresh optimizer."""
        mode, k = self.rewind.mode, self.rewind_step
        if mode == "weights" and model is None:
            trainer = self.make_trainer(self.fresh_model())
            if k > 0:
                if self._rewind_state is None:
                    self._rewind_state = self.run.load_checkpoint("rewind.pt")
                trainer.rewind_to(self._rewind_state)
        else:
            if model is None:
                weights = source_weights if source_weights is not None else \
                    self.level_unit(level - 1).load_tensors("model.safetensors", self.ctx.device)
                model = self.fresh_model(weights)
            trainer = self.make_trainer(model)
            trainer.step = k
            if mode == "finetune":
                trainer.hold_final_lr()
        trainer.set_mask(mask)
        return trainer

    def finish_unit(self, unit: Unit, trainer: Trainer, mask: Mask, description: str, **extra) -> dict:
        if not unit.has("mask.safetensors"):  # controls too, for mask similarity
            unit.save_mask("mask.safetensors", mask)
        result = unit_result(mask, train_unit(trainer, unit, self.ctx, description), self.model, **extra,
                             **self.pruner.report(mask))
        unit.finish(result)
        return result

    # -- the trunk ----------------------------------------------------------------------
    def level(self, level: int) -> dict:
        unit = self.level_unit(level)
        if unit.finished:
            return unit.result()
        description = f"imp level {level}/{self.spec.levels}"
        if level == 0:
            return self.dense_level(unit, description)
        mask = self.level_mask(level)
        self.ctx.progress.note(f"{description}: density {mask.density():.2%}")
        return self.finish_unit(unit, self.start(mask, level), mask, description, level=level)

    def dense_level(self, unit: Unit, description: str) -> dict:
        mask = Mask.ones_like(self.model)
        unit.save_mask("mask.safetensors", mask)
        metrics = train_unit(self.make_trainer(self.fresh_model()), unit, self.ctx, description,
                             snapshot_at=self.snapshot_at, on_snapshot=self.save_rewind_point)
        return self.finish_dense(unit, mask, metrics)

    @property
    def snapshot_at(self) -> int | None:
        """The step whose training state weight rewinding to k > 0 keeps (`rewind.pt`)."""
        return self.rewind_step if self.rewind.mode == "weights" and self.rewind_step > 0 else None

    def save_rewind_point(self, state: dict) -> None:
        self.run.save_checkpoint(state, "rewind.pt")

    def finish_dense(self, unit: Unit, mask: Mask, metrics: dict) -> dict:
        result = {"level": 0, "density": 1.0, "kept": mask.kept(), "size": mask.size(), **metrics,
                  **layer_report(mask, self.model)}
        unit.finish(result)
        return result

    def level_mask(self, level: int) -> Mask:
        """Level `level`'s ticket: pruned from the level before (and saved), or as saved."""
        unit = self.level_unit(level)
        if unit.has("mask.safetensors"):
            return unit.load_mask("mask.safetensors")
        previous = self.level_unit(level - 1)
        mask = self.pruner.prune(previous.load_mask("mask.safetensors"), previous.load_tensors("model.safetensors"),
                                 level)
        unit.save_mask("mask.safetensors", mask)
        return mask

    # -- controls -----------------------------------------------------------------------
    def control_trainer(self, level: int, name: str) -> tuple[Trainer, Mask]:
        """A trainer positioned where control `name` of `level` starts, and its mask."""
        ticket = self.level_unit(level).load_mask("mask.safetensors")
        if name == "reinit":
            model = seeded_model(self.spec.train, self.data.info, derived_seed(self.spec.train.seed, level, name))
            return self.start(ticket, level, model=model.to(self.ctx.device)), ticket
        # Under lr/finetune both start from the trained dense network (the module docstring says why).
        dense = self.level_unit(0).load_tensors("model.safetensors", self.ctx.device) \
            if name in ("oneshot", "heads") or self.rewind.mode != "weights" else None
        if name in ("oneshot", "heads"):
            mask = self.pruner.like(dense, ticket)
            if name == "heads":  # whole heads in the attention, the one-shot mask elsewhere
                mask = head_mask({n: dense[n].abs() for n in ticket}, ticket, self.model, mask)
        elif name == "random_channels":
            generator = torch.Generator().manual_seed(derived_seed(self.spec.train.seed, level, name))
            mask = self.pruner.random_channels_like(ticket, generator)
        else:
            generator = torch.Generator().manual_seed(derived_seed(self.spec.train.seed, level, name))
            mask = random_mask_like(ticket, RANDOM_CONTROLS[name], generator, ignore=self.ignore)
        return self.start(mask, level, dense if self.rewind.mode != "weights" else None), mask

    def control(self, level: int, name: str) -> dict:
        unit = self.level_unit(level).child(name)
        if unit.finished:
            return unit.result()
        trainer, mask = self.control_trainer(level, name)
        return self.finish_unit(unit, trainer, mask, f"imp level {level} control {name}", level=level, control=name)

    def controls_batched(self, level: int, names: tuple[str, ...]) -> dict:
        """The controls of a level that have not finished trained as one batch
        (`train.batched`; a batch cut short resumes as one); finished ones as usual."""
        fresh = [n for n in names if not self.level_unit(level).child(n).finished]
        # Every control starts at the rewind step; under weight rewinding to k > 0 all but
        # reinit also restore the optimizer state saved at k, so reinit trains apart.
        groups: dict[bool, list[str]] = {}
        for n in fresh:
            groups.setdefault(n == "reinit" and self.rewind.mode == "weights" and self.rewind_step > 0, []).append(n)
        for group in (g for g in groups.values() if len(g) > 1):
            prepared = {n: self.control_trainer(level, n) for n in group}
            units = [self.level_unit(level).child(n) for n in group]
            for n, unit in zip(group, units):
                unit.save_mask("mask.safetensors", prepared[n][1])
            metrics = train_units_batched([prepared[n][0] for n in group], units, self.ctx,
                                          f"imp level {level} controls {','.join(group)}")
            for n, unit, m in zip(group, units, metrics):
                unit.finish(unit_result(prepared[n][1], m, self.model, level=level, control=n,
                                        **self.pruner.report(prepared[n][1])))
        return {n: self.control(level, n) for n in names}


def unit_result(mask: Mask, metrics: dict, model: torch.nn.Module | None = None, **extra) -> dict:
    return {"density": round(mask.density(), 6), "kept": mask.kept(), "size": mask.size(), **extra, **metrics,
            **layer_report(mask, model)}


def run_imp(spec: ImpSpec, run: RunDir, ctx: RunContext) -> dict:
    return run_imp_batched([spec], [run], ctx)[0]  # one seed: each level on its own


def _controls(job: ImpJob, level: int, result: dict) -> None:
    spec = job.spec
    if level in set(spec.control_levels or range(1, spec.levels + 1)) and spec.controls:
        result["controls"] = (job.controls_batched(level, spec.controls) if job.ctx.batch else
                              {name: job.control(level, name) for name in spec.controls})


def _imp_result(spec: ImpSpec, levels: list[dict]) -> dict:
    last, dense = levels[-1], levels[0]
    key = "test_accuracy" if "test_accuracy" in last else "test_loss"  # a regression run has no accuracy
    metrics = {"levels": spec.levels, "density": last["density"], key: last[key],
               f"dense_{key}": dense[key], "step": last["step"]}
    return {"metrics": metrics, "levels": levels}


def batch_key(spec: ImpSpec) -> str:
    """IMP runs that differ only in their seed can go level by level together."""
    return "imp:" + spec.replace(train=spec.train.replace(seed=0)).run_id


def run_imp_batched(specs: list[ImpSpec], runs: list[RunDir], ctx: RunContext) -> list[dict]:
    """IMP for seeds in lockstep: each level's tickets of all seeds trained as one stacked
    computation (`train.batched`), then each pruned on its own; the controls of a level
    seed by seed (`controls_batched` with `--batch`). The seeds whose level has not
    finished train it as one batch, which resumes as one after an interruption
    (`units_batched`); a seed alone takes its level on its own."""
    from .units import load_train_data

    data = load_train_data(specs[0].train, ctx)
    jobs = [ImpJob(spec, run, ctx, data=data) for spec, run in zip(specs, runs)]
    levels: list[list[dict]] = [[] for _ in jobs]
    for level in range(specs[0].levels + 1):
        units = [job.level_unit(level) for job in jobs]
        fresh = [i for i, u in enumerate(units) if not u.finished]
        description = f"imp level {level}/{specs[0].levels}, seeds {','.join(str(specs[i].train.seed) for i in fresh)}"
        if len(fresh) > 1:
            done = _level_batched([jobs[i] for i in fresh], level, description)
            for i, result in zip(fresh, done):
                levels[i].append(result)
        for i, job in enumerate(jobs):
            if len(levels[i]) == level:  # not batched: on its own (finished, resuming, or alone)
                levels[i].append(dict(job.level(level)))
            _controls(job, level, levels[i][-1])
    return [_imp_result(spec, lv) for spec, lv in zip(specs, levels)]


def _level_batched(jobs: list[ImpJob], level: int, description: str) -> list[dict]:
    units = [job.level_unit(level) for job in jobs]
    if level == 0:
        masks = [Mask.ones_like(job.model) for job in jobs]
        for unit, mask in zip(units, masks):
            unit.save_mask("mask.safetensors", mask)
        trainers = [job.make_trainer(job.fresh_model()) for job in jobs]
        snapshot = jobs[0].snapshot_at
        metrics = train_units_batched(trainers, units, jobs[0].ctx, description, snapshot_at=snapshot,
                                      on_snapshot=lambda i, state: jobs[i].save_rewind_point(state))
        return [job.finish_dense(unit, mask, m) for job, unit, mask, m in zip(jobs, units, masks, metrics)]
    masks = [job.level_mask(level) for job in jobs]
    jobs[0].ctx.progress.note(f"{description}: density {masks[0].density():.2%}")
    trainers = [job.start(mask, level) for job, mask in zip(jobs, masks)]
    metrics = train_units_batched(trainers, units, jobs[0].ctx, description)
    out = []
    for unit, mask, m in zip(units, masks, metrics):
        result = unit_result(mask, m, jobs[0].model, level=level, **jobs[0].pruner.report(mask))
        unit.finish(result)
        out.append(result)
    return out
