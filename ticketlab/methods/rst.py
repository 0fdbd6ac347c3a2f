"""`rst`: dual lottery tickets by Random Sparse Network Transformation (Bai et al., ICLR 2022).

Per cycle c of C: the layers outside `dense_layers` keep a density of d^(c/C); the
weights to be masked (P) are all but those, the kept ones drawn at random among the
previous cycle's (or, as an ablation, the largest |w| at init). While every weight
still trains, an L2 penalty on P only, lambda * w, is added to the gradient; lambda is
`reg_step` from the first iteration and grows by it every `reg_every` iterations to
`reg_ceiling`, then holds for `stabilize` iterations. As in the authors' code
(yueb17/DLTH at 6a3e35f, `pruner/reg_pruner_iterative.py`, without
`--RST_Iter_weight_delete`), the weights an earlier cycle gave up are not zeroed: they
train on, in P, penalised afresh each cycle. After the last cycle P is masked, the
subnetwork is fine-tuned under its mask with the `train` spec, and, as the baseline, the
same random subnetwork is trained from scratch.

The transformation logs the norm of P's weights and the accuracy the network would have
if masked right now (`extrusion`), so one can watch the information leave P.
"""
from __future__ import annotations

import copy

import torch

from ..specs.baselines import RstSpec
from .context import RunContext
from ..prune import resolve_layers
from ..sparse import Mask
from ..store import RunDir, Unit
from ..train import Trainer
from ..train.evaluate import evaluate
from .units import derived_seed, layer_report, prepare, require_classification, seeded_model, train_unit


def pick(spec: RstSpec, alive: Mask, init: dict, density: float, generator: torch.Generator,
         ignore: set[str]) -> Mask:
    """Keep round(density x size) of each layer, removing only among the survivors."""
    new = {}
    for name in alive:
        if name in ignore:
            new[name] = alive[name].clone()
            continue
        flat_alive = alive[name].flatten()
        keep = round(density * flat_alive.numel())
        candidates = flat_alive.nonzero().squeeze(1)
        if spec.pick == "random":
            order = candidates[torch.randperm(len(candidates), generator=generator).to(candidates.device)]
        else:  # the largest |w| at init survive
            order = candidates[torch.sort(init[name].flatten()[candidates].abs(), descending=True, stable=True).indices]
        flat = torch.zeros_like(flat_alive)
        flat[order[:keep]] = True
        new[name] = flat.view_as(alive[name])
    return Mask(new)


class Extrusion:
    """Trainer hooks: the growing penalty on P, and the log of P's norm and masked accuracy."""

    def __init__(self, spec: RstSpec, trainer: Trainer, doomed: Mask, keep: Mask, unit: Unit, log_every: int):
        self.spec, self.unit, self.log_every, self.keep = spec, unit, log_every, keep
        params = dict(trainer.model.named_parameters())
        self.names = [n for n in doomed if doomed[n].any()]
        self.params = [params[n] for n in self.names]
        # Float copies on each parameter's device, however the masks were built.
        self.factors = [doomed[n].to(device=params[n].device, dtype=params[n].dtype) for n in self.names]
        self.log = unit.read_json("extrusion.json") if unit.has("extrusion.json") else []
        self.scratch = copy.deepcopy(trainer.model)

    def penalize(self, trainer: Trainer) -> None:
        coefficient = self.spec.coefficient(trainer.step)
        if coefficient > 0:
            grads = [p.grad for p in self.params]
            torch._foreach_addcmul_(grads, self.factors, self.params, value=coefficient)  # grad += lambda P w

    def record(self, trainer: Trainer) -> None:
        if trainer.step % self.log_every and trainer.step != trainer.total_steps:
            return
        with torch.no_grad():
            norm = torch.sqrt(sum((p * f).pow(2).sum() for p, f in zip(self.params, self.factors))).item()
            self.scratch.load_state_dict(trainer.model.state_dict())
            scratch_params = dict(self.scratch.named_parameters())
            for name in self.keep:
                param = scratch_params[name]
                param.mul_(self.keep[name].to(device=param.device, dtype=param.dtype))
        data = trainer.data
        masked = evaluate(self.scratch, data.test.x, data.test.y, data.info.num_classes)["accuracy"]
        # A unit resumed from a checkpoint trains again the steps logged after it: log them once.
        self.log = [entry for entry in self.log if entry["step"] < trainer.step]
        self.log.append({"step": trainer.step, "coefficient": self.spec.coefficient(trainer.step),
                         "masked_weight_norm": norm, "masked_accuracy": masked})
        self.unit.write_json("extrusion.json", self.log)


def transform_spec(spec: RstSpec):
    steps = spec.ramp_steps + spec.stabilize
    return spec.train.replace(duration=f"{steps}it", batch_size=spec.transform_batch, optimizer="sgd",
                              lr=spec.transform_lr, momentum=0.9, nesterov=False, schedule="constant",
                              milestones=(), warmup="0it", eval_every=f"{max(steps // 10, 1)}it",
                              # the growing penalty joins the gradients before clipping, which would cap it
                              clip_grad=0.0)


def _note_dense_share(spec: RstSpec, alive: Mask, ignore: set[str], ctx: RunContext) -> None:
    """Say so when the layers kept dense hold most of the weights: the network's density is
    then far above the one asked for, which counts the pruned layers alone."""
    dense = sum(alive[n].numel() for n in ignore) / alive.size()
    if dense > 0.5:
        overall = dense + (1 - dense) * spec.density
        ctx.progress.note(f"rst: the layers kept dense ({', '.join(sorted(ignore))}) hold {dense:.0%} of the "
                          f"prunable weights, so density {spec.density:g} of the pruned layers keeps {overall:.1%} "
                          "of the network; --dense-layer names the layers to keep dense, --set dense_layers= prunes them all")


def run_rst(spec: RstSpec, run: RunDir, ctx: RunContext) -> dict:
    data, model = prepare(spec.train, ctx)
    require_classification(spec.train, data.info, "RST")
    # The masks and the init they are drawn from live on the training device, with the
    # parameters they are combined with (the generator stays on the CPU: pick moves its draws).
    init = {n: t.detach().to(ctx.device, copy=True) for n, t in model.state_dict().items()}
    ignore = set(resolve_layers(spec.dense_layers, model.prunable_names, model.output_name))
    alive = Mask.ones_like(model).to(ctx.device)
    _note_dense_share(spec, alive, ignore, ctx)
    generator = torch.Generator().manual_seed(derived_seed(spec.train.seed, "rst"))
    weights, cycles = init, []
    for cycle in range(1, spec.cycles + 1):
        keep = pick(spec, alive, init, spec.density ** (cycle / spec.cycles), generator, ignore)
        unit = run.child(f"transform_{cycle}")
        if not unit.finished:
            tspec = transform_spec(spec)
            twin = copy.deepcopy(model)
            twin.load_state_dict(weights)
            trainer = Trainer(tspec, twin, data, ctx.device)  # every weight trains, P under the penalty
            doomed = Mask({n: ~keep[n] for n in alive})
            hooks = Extrusion(spec, trainer, doomed, keep, unit, log_every=max(trainer.total_steps // 20, 1))
            trainer.on_backward, trainer.after_step = hooks.penalize, hooks.record
            metrics = train_unit(trainer, unit, ctx, f"rst transform cycle {cycle}/{spec.cycles}")
            unit.save_mask("mask.safetensors", keep)
            unit.finish({"cycle": cycle, "density": round(keep.density(), 6), **metrics,
                         "masked_accuracy": hooks.log[-1]["masked_accuracy"]})
        cycles.append({**unit.result(), "extrusion": unit.read_json("extrusion.json")})
        weights, alive = unit.load_tensors("model.safetensors"), unit.load_mask("mask.safetensors").to(ctx.device)
    results = {}
    for name, start in (("finetune", weights), ("scratch", None)):
        unit = run.child(name)
        if not unit.finished:
            net = copy.deepcopy(model) if start is not None else seeded_model(spec.train, data.info, spec.train.seed)
            if start is not None:
                net.load_state_dict(start)
            trainer = Trainer(spec.train, net, data, ctx.device, mask=alive)
            unit.finish(train_unit(trainer, unit, ctx, f"rst {name} at density {alive.density():.3g}"))
        results[name] = unit.result()
    # `density` is over every prunable weight (what reports plot); the spec's density counts
    # only the pruned layers, so both are reported, with what the pruned layers reached.
    pruned = Mask({n: alive[n] for n in alive if n not in ignore})
    metrics = {"density": round(alive.density(), 6), "asked_density": spec.density,
               "pruned_layers_density": round(pruned.density(), 6),
               "test_accuracy": results["finetune"]["test_accuracy"],
               "scratch_test_accuracy": results["scratch"]["test_accuracy"], "step": results["finetune"]["step"]}
    return {"metrics": metrics, "cycles": cycles, "finetune": results["finetune"], "scratch": results["scratch"],
            **layer_report(alive, model)}
