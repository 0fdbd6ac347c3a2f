"""`lmc`: linear mode connectivity (instability) of an IMP ticket (Frankle et al. 2020).

Two copies of the level's ticket start from the IMP run's rewind point (weights,
optimizer state and step k, under the level's mask) and train to the end with different
data orders. The whole state is interpolated, theta(a) = (1 - a) theta_1 + a theta_2
(BatchNorm buffers too; integer counters are taken from the first copy), at evenly
spaced a. Instability is the error barrier: the highest test error on the path minus
the mean of the two ends' errors. A ticket is stable when it is about zero. A regression
run has no error rate: its barrier is the same in test loss (the highest on the path minus
the mean of the ends), and its result holds losses and no accuracies.
"""
from __future__ import annotations


from .context import RunContext
from ..specs import LmcSpec
from ..store import RunDir
from ..train.averaging import interpolate
from ..train.evaluate import evaluate
from ..train.task import task_for
from ..train.task_names import CLASSIFICATION
from .imp import ImpJob
from .units import train_unit


def run_lmc(spec: LmcSpec, run: RunDir, ctx: RunContext) -> dict:
    source_run = ctx.sources["source"]
    mask = source_run.level(spec.level).load_mask("mask.safetensors")
    states = []
    for copy, data_seed in enumerate(spec.data_seeds):
        order = spec.source.replace(train=spec.source.train.replace(data_seed=data_seed))
        job = ImpJob(order, source_run, ctx)
        trainer = job.start(mask, spec.level)
        unit = run.child(f"copy_{copy}")
        if not unit.finished:
            unit.finish(train_unit(trainer, unit, ctx, f"lmc level {spec.level} copy {copy}"))
        states.append(unit.load_tensors("model.safetensors", ctx.device))
    model, data = job.fresh_model().to(ctx.device), job.data
    task = task_for(spec.source.train, data.info)
    alphas = [i / (spec.points - 1) for i in range(spec.points)]
    path = []
    for alpha in alphas:
        model.load_state_dict(interpolate(states[0], states[1], alpha))
        path.append(evaluate(model, data.test.x, data.test.y, data.info.num_classes, task=task))
    density = round(mask.density(), 6)
    if task.kind != CLASSIFICATION:
        losses = [p["loss"] for p in path]
        return {"metrics": {"instability": max(losses) - (losses[0] + losses[-1]) / 2, "test_loss": losses[0],
                            "endpoint_losses": [losses[0], losses[-1]], "level": spec.level, "density": density},
                "alphas": alphas, "test_loss": losses}
    errors = [1 - p["accuracy"] for p in path]
    instability = max(errors) - (errors[0] + errors[-1]) / 2
    return {"metrics": {"instability": instability, "test_accuracy": path[0]["accuracy"],
                        "endpoint_accuracies": [path[0]["accuracy"], path[-1]["accuracy"]], "level": spec.level,
                        "density": round(mask.density(), 6)},
            "alphas": alphas, "test_accuracy": [p["accuracy"] for p in path], "test_loss": [p["loss"] for p in path]}
