"""`pools`: Lottery Pools (Yin et al., AAAI 2023), stronger tickets at no training cost.

For a target level t of a finished IMP run, the tickets of the other levels form a pool,
nearest first (t-1, t+1, t-2, ...). Greedily, starting from the target's ticket:

    for each candidate c:   for each alpha:
        theta = alpha * best + (1 - alpha) * c        (the whole state, BatchNorm buffers too)
        prune theta back to the target's kept counts by magnitude ("prune during"; not for
            a dense target), with the IMP run's scope, layer rates and dense layers
        recompute BatchNorm statistics on training data
        score on the validation split
    take the best alpha; accept it when validation accuracy does not drop

`average` is the same with alpha = 0.5 alone. Every trial is stored with its score.

Baselines, as the authors' code builds them (luuyin/Lottery-pools at 78fc43b,
`CIFAR/Lottery_pools.py`, `interpolate_swa` and `interpolate_ema`): starting from the
target's ticket, the pool's members are folded in one at a time, nearest first; after
each fold the model is pruned back to the target's counts and its BatchNorm statistics
recomputed, and that pruned, recalibrated model is carried forward. SWA gives the k-th
member the weight 1/k (a running uniform mean); EMA gives each new member `ema_factor`
(the authors' EMA_value, 0.9) and the carried model the rest. Also scored: the logit
ensemble of the target and its two nearest levels (three times the inference cost); the
original ticket; and, for a network with BatchNorm, the original ticket with recomputed
BatchNorm statistics (`original_bn`), a control the paper lacks: every variant above is
recalibrated, so a gain over the ticket that `original_bn` also shows is recalibration,
not pooling. All are scored on the test set and, with `ood`, on the corrupted test sets.

Ablations (`ablations`): `swa_after` and `ema_after` average every state first and prune
and recalibrate once at the end, the baselines of ticketlab's version 1 (EMA there: the
pool farthest first, theta = 0.95 theta + 0.05 c), which the paper reports collapse at
high sparsity.

A regression run is scored by loss instead of accuracy (`val_loss`, `test_loss`; the
search accepts a candidate when the validation loss does not rise, and a gain is the fall
of the test loss); its runs take no corrupted test sets (`ood`), which score accuracy.

Layout: `target_LL/` per target level, holding `<variant>/`, `swa/` and `ema/` units
(each with its model and mask); the target unit finishes with the scores of all.
"""
from __future__ import annotations

import copy
import time

import torch

from .context import RunContext
from ..data.corrupted import SUFFIX, CorruptedTestSets
from ..core.errors import CheckpointError, SpecError
from ..sparse import Mask
from ..specs import PoolSpec
from ..store import RunDir, Unit
from ..train.averaging import exponential_average, has_batchnorm, interpolate, recalibrate_batchnorm, uniform_average
from ..train.evaluate import LogitEnsemble, evaluate, evaluate_corrupted
from ..train.task import task_for
from .imp import ImpJob
from .pools_search import load_search, save_search

EMA_AFTER_DECAY = 0.95  # the ema_after ablation's weight on the running average
BN_SAMPLE_SEED = 0  # which training examples recompute BatchNorm statistics: the same in every run


class PoolJob:
    def __init__(self, spec: PoolSpec, run: RunDir, ctx: RunContext):
        self.spec, self.run, self.ctx = spec, run, ctx
        self.source = ctx.sources["source"]
        self.imp = ImpJob(spec.source, self.source, ctx)
        self.data = self.imp.data
        self.task = task_for(spec.source.train, self.data.info)
        self.metric = self.task.selection  # 'accuracy' or 'loss': what every score below is
        self.key = f"val_{self.metric}"  # what the greedy search compares
        if spec.ood and self.metric != "accuracy":
            raise SpecError(f"pools: the corrupted test sets (ood) score accuracy, which this {self.task.kind} run "
                            f"(task '{self.task.name}') does not have; set ood=False (--set ood=false).")
        self.model = self.imp.fresh_model().to(ctx.device)
        self.bn_inputs = self._bn_inputs() if has_batchnorm(self.model) else None
        self._tickets: dict[int, tuple[dict, Mask]] = {}

    def _bn_inputs(self) -> torch.Tensor:
        x = self.data.train.x
        if self.spec.bn_samples and self.spec.bn_samples < len(x):
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(BN_SAMPLE_SEED))
            x = x[order[:self.spec.bn_samples].to(x.device)]
        return x

    # -- the pool's members ---------------------------------------------------------------
    def ticket(self, level: int) -> tuple[dict, Mask]:
        """A level's weights (best-validation or final) and mask, as IMP stored them."""
        if level not in self._tickets:
            unit = self.imp.level_unit(level)
            name = "best.safetensors" if self.spec.weights == "best" else "model.safetensors"
            if not unit.has(name):
                how = ("it was trained before best-validation weights were kept; use --weights final, or "
                       "rerun the IMP run in a new runs folder") if self.spec.weights == "best" else \
                    "the level has not finished; rerun the IMP command to complete it"
                raise CheckpointError(f"IMP level {level} in {self.source.path} has no stored weights ({name}): "
                                      f"{how}.")
            self._tickets[level] = (unit.load_tensors(name, self.ctx.device), unit.load_mask("mask.safetensors",
                                                                                            self.ctx.device))
        return self._tickets[level]

    # -- scoring ---------------------------------------------------------------------------
    def scores(self, state: dict, splits=("val", "test")) -> dict:
        self.model.load_state_dict(state)
        return self.scores_of(self.model, splits)

    def scores_of(self, model: torch.nn.Module, splits=("val", "test")) -> dict:
        info = self.data.info
        return {f"{s}_{self.metric}": evaluate(model, getattr(self.data, s).x, getattr(self.data, s).y,
                                               info.num_classes, task=self.task)[self.metric] for s in splits}

    def rank(self, value: float) -> float:
        """A score as a number where higher is better (accuracy as it is, a loss negated)."""
        return self.task.rank({self.metric: value})

    def pruned_back(self, state: dict, target: Mask, dense: bool) -> tuple[dict, Mask]:
        """`state` with the target's kept counts (by magnitude) and recomputed BatchNorm statistics."""
        if dense:
            mask = target
        else:
            mask = self.imp.pruner.like(state, target)
            state = {n: v * mask[n].to(v.dtype) if n in mask else v for n, v in state.items()}
        if self.bn_inputs is not None:
            self.model.load_state_dict(state)
            recalibrate_batchnorm(self.model, self.bn_inputs)
            state = {n: v.detach().clone() for n, v in self.model.state_dict().items()}
        return state, mask

    # -- the greedy pool -------------------------------------------------------------------
    def search(self, target: int, variant: str) -> dict:
        unit = self.target_unit(target).child(variant)
        if unit.finished:
            return unit.result()
        state, mask = self.ticket(target)
        dense = target == 0
        alphas, pool, key = self.spec.alphas_for(variant), self.spec.pool_order(target), self.key
        best, trials, accepted, done = (None, [], [], 0) if self.ctx.restart else \
            load_search(unit, self.ctx.device, self.key)
        if best is None:
            best = {"state": state, "mask": mask, **self.scores(state, ("val",))}
        else:
            self.ctx.progress.note(f"pools level {target} {variant}: resuming after {done} of {len(pool)} candidates")
        self.ctx.progress.start(f"pools level {target} {variant}", len(pool) * len(alphas), len(trials))
        try:
            for rounds, candidate in enumerate(pool[done:], start=done + 1):
                other, _ = self.ticket(candidate)
                round_best = None
                for alpha in alphas:
                    mixed, mixed_mask = self.pruned_back(interpolate(other, best["state"], alpha), mask, dense)
                    val = self.scores(mixed, ("val",))[key]
                    trials.append({"candidate": candidate, "alpha": alpha, key: val})
                    # A tie goes to the larger alpha: the smaller step away from the current best.
                    if round_best is None or \
                            (self.rank(val), alpha) > (self.rank(round_best[key]), round_best["alpha"]):
                        round_best = {"state": mixed, "mask": mixed_mask, key: val, "alpha": alpha}
                    self.ctx.progress.advance(len(trials))
                take = self.rank(round_best[key]) >= self.rank(best[key])
                self.ctx.progress.note(f"pools level {target} {variant}: level {candidate} alpha "
                                       f"{round_best['alpha']:g} val {round_best[key]:.4f} "
                                       f"({'accepted' if take else 'rejected'}; best {best[key]:.4f})")
                if take:
                    best = round_best
                    accepted.append({"candidate": candidate, "alpha": round_best["alpha"], key: round_best[key]})
                save_search(unit, rounds, best, trials, accepted, key)
        finally:
            self.ctx.progress.stop()
        # The search's files go before the result lands: a cut between the two redoes the search
        # (the same one), and a finished unit never keeps them.
        save_search(unit, None, best, trials, accepted, key)
        return self.finish_model(unit, best["state"], best["mask"], accepted=accepted, trials=trials)

    def finish_model(self, unit: Unit, state: dict, mask: Mask, **extra) -> dict:
        unit.save_tensors("model.safetensors", state)
        unit.save_mask("mask.safetensors", mask)
        result = {**self.scores(state), "density": round(mask.density(), 6), "kept": mask.kept(), **extra}
        unit.finish(result)
        return result

    def folded(self, target: int, name: str) -> dict:
        """SWA or EMA, one member at a time with pruning and recalibration after each fold, as
        `interpolate_swa` / `interpolate_ema` in the authors' CIFAR/Lottery_pools.py do."""
        unit = self.target_unit(target).child(name)
        if unit.finished:
            return unit.result()
        state, mask = self.ticket(target)
        carried, carried_mask = state, mask
        for members, candidate in enumerate(self.spec.pool_order(target), start=2):
            weight = 1 / members if name == "swa" else self.spec.ema_factor  # the new member's share
            mixed = interpolate(self.ticket(candidate)[0], carried, 1 - weight)
            carried, carried_mask = self.pruned_back(mixed, mask, target == 0)
        return self.finish_model(unit, carried, carried_mask)

    def averaged_after(self, target: int, name: str) -> dict:
        """The `swa_after` / `ema_after` ablations: average every state, prune and recalibrate once."""
        unit = self.target_unit(target).child(name)
        if unit.finished:
            return unit.result()
        state, mask = self.ticket(target)
        pool = [self.ticket(c)[0] for c in self.spec.pool_order(target)]
        if name == "swa_after":
            mixed = uniform_average([state] + pool)
        else:  # farthest first, so that the nearest levels weigh most after the target
            mixed = exponential_average([state] + pool[::-1], EMA_AFTER_DECAY)
        mixed, mixed_mask = self.pruned_back(mixed, mask, target == 0)
        return self.finish_model(unit, mixed, mixed_mask)

    def recalibrated(self, target: int) -> dict:
        """The control: the original ticket, its BatchNorm statistics recomputed as every
        pooled model's are."""
        unit = self.target_unit(target).child("original_bn")
        if unit.finished:
            return unit.result()
        state, mask = self.ticket(target)
        state, _ = self.pruned_back(state, mask, dense=True)  # dense: keep the mask, only recalibrate
        return self.finish_model(unit, state, mask)

    # -- one target ------------------------------------------------------------------------
    def target_unit(self, target: int) -> Unit:
        return self.run.child(f"target_{target:02d}")

    def neighbours(self, target: int) -> list[int]:
        return self.spec.replace(candidates=2).pool_order(target)

    def target(self, target: int) -> dict:
        unit = self.target_unit(target)
        if unit.finished:
            return unit.result()
        state, mask = self.ticket(target)
        results = {"original": {**self.scores(state), "density": round(mask.density(), 6), "kept": mask.kept()}}
        for variant in self.spec.variants:
            results[variant] = self.search(target, variant)
        for name in ("swa", "ema"):
            results[name] = self.folded(target, name)
        for name in self.spec.ablations:
            results[name] = self.averaged_after(target, name)
        if self.bn_inputs is not None:
            results["original_bn"] = self.recalibrated(target)
        members = [self._model_with(self.ticket(lv)[0]) for lv in [target] + self.neighbours(target)]
        ensemble = LogitEnsemble(members)
        results["ensemble"] = self.scores_of(ensemble)
        results["ensemble"]["members"] = [target] + self.neighbours(target)
        if self.spec.ood:
            self.ood(target, results, ensemble)
        out = {"level": target, "density": round(mask.density(), 6), "pool": self.spec.pool_order(target),
               "models": results}
        unit.finish(out)
        return out

    def _model_with(self, state: dict) -> torch.nn.Module:
        model = copy.deepcopy(self.model)
        model.load_state_dict(state)
        return model

    def ood(self, target: int, results: dict, ensemble: torch.nn.Module) -> None:
        """Mean accuracy of every model on the corrupted test sets, each set made once."""
        sets = CorruptedTestSets(self.data.info.name + SUFFIX, self.data.test, self.data.info,
                                 data_dir=self.ctx.data_dir, size=self.spec.ood_size)
        models = {"original": self._model_with(self.ticket(target)[0]), "ensemble": ensemble}
        for name in [*self.spec.variants, "swa", "ema", *self.spec.ablations] + \
                (["original_bn"] if self.bn_inputs is not None else []):
            models[name] = self._model_with(self.target_unit(target).child(name).load_tensors("model.safetensors",
                                                                                               self.ctx.device))
        self.ctx.progress.note(f"pools level {target}: {len(models)} models on {len(sets)} corrupted test sets "
                               f"({sets.source}, {sets.size} images each)")
        for name, scores in evaluate_corrupted(models, sets, self.data.info.num_classes).items():
            results[name]["ood"] = scores
            results[name]["ood_accuracy"] = scores["mean_accuracy"]


def run_pools(spec: PoolSpec, run: RunDir, ctx: RunContext) -> dict:
    job = PoolJob(spec, run, ctx)
    resumed = any(p.name == "result.json" for p in run.path.rglob("result.json"))  # then seconds are partial
    started = time.perf_counter()
    targets = [job.target(t) for t in spec.targets]
    test = f"test_{job.metric}"
    sign = 1 if job.task.higher_is_better else -1  # a gain is a rise of accuracy, a fall of loss
    gains = {name: sum(sign * (t["models"][name][test] - t["models"]["original"][test])
                       for t in targets) / len(targets)
             for name in targets[0]["models"] if name != "original"}
    mean = lambda name: sum(t["models"][name][test] for t in targets) / len(targets)  # noqa: E731
    metrics = {"targets": list(spec.targets), test: mean(spec.variants[0]),
               f"original_{test}": mean("original"),
               "mean_test_gain": {k: round(v, 6) for k, v in gains.items()},
               # A gain the recalibrated ticket shows too is BatchNorm recalibration, not pooling.
               **({"mean_test_gain_over_recalibrated": {k: round(v - gains["original_bn"], 6) for k, v in gains.items()
                                                        if k != "original_bn"}} if "original_bn" in gains else {}),
               "seconds": round(time.perf_counter() - started, 3), "resumed": resumed}
    return {"metrics": metrics, "targets": targets}
