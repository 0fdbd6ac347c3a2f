"""Whether a trained network learned anything: a run whose training loss went NaN or
infinite has diverged, and one that ends where a network ignoring its input would (its
final training loss at or above chance, ln of the number of classes, and its test
accuracy at chance, 1 / classes) is dead. Both together: a short run's loss, averaged
from its first steps, can sit above chance while it already predicts better than chance.

A regression run has no chance level to compare with: it is dead when its final
training loss is not below its first recorded one (the mean over the steps up to the
first evaluation), i.e. training never lowered the loss, and diverged as above. The first
record already averages some learning, so a run that learned only in its first steps and
then stalled is not called dead; one that never moved, or rose, is (a single evaluation
gives nothing to compare with, and counts as learned).

Either is recorded in the unit's metrics (`health`, `health_reason`) and said as the
run finishes; reports leave such units off their curves and list them instead. A
healthy unit's metrics carry neither key, so results of healthy runs are unchanged.
"""
from __future__ import annotations

import math

# A final loss this close to chance is chance: a network that learned to predict the
# class frequencies of a balanced set sits within float noise of ln C.
CHANCE_TOLERANCE = 1e-3


# Test accuracy within this of 1 / classes counts as chance (a network that predicts one
# class of a balanced test set scores exactly 1 / classes).
CHANCE_ACCURACY_MARGIN = 0.005


def health_of(history: list[dict], num_classes: int, kind: str = "classification") -> dict:
    """{} for a network that learned; else its `health` ("diverged" or "dead") and why.
    `kind` is the task's: 'classification' or 'regression'."""
    losses = [record["train_loss"] for record in history if "train_loss" in record]
    bad = [loss for loss in losses if not math.isfinite(loss)]
    if bad:
        return {"health": "diverged", "health_reason": f"the training loss became {bad[0]} "
                f"(at evaluation {losses.index(bad[0]) + 1} of {len(losses)}); lower the learning rate"}
    if kind != "classification":
        return _regression_health(losses)
    chance = math.log(num_classes)
    accuracy = history[-1].get("test", {}).get("accuracy") if history else None
    if (losses and num_classes > 1 and losses[-1] >= chance - CHANCE_TOLERANCE and accuracy is not None
            and accuracy <= 1 / num_classes + CHANCE_ACCURACY_MARGIN):
        return {"health": "dead", "health_reason": f"the final training loss {losses[-1]:.4f} is at or above "
                f"chance (ln {num_classes} = {chance:.4f}) and the test accuracy {accuracy:.4f} is chance's "
                f"(1/{num_classes}): the network did not learn"}
    return {}


def _regression_health(losses: list[float]) -> dict:
    if len(losses) > 1 and losses[-1] >= losses[0]:
        return {"health": "dead", "health_reason": f"the final training loss {losses[-1]:.4g} is not below the "
                f"first recorded one {losses[0]:.4g}: training never lowered the loss"}
    return {}


def unhealthy(result: dict, where: str = "") -> list[tuple[str, str, str]]:
    """(unit, health, reason) of every unit in a result dict (nested, as IMP's levels and
    controls are) that diverged or died."""
    found = [(where or ".", result["health"], result.get("health_reason", ""))] if "health" in result else []
    for key, value in result.items():
        if isinstance(value, dict):
            found += unhealthy(value, f"{where}/{key}" if where else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    found += unhealthy(item, f"{where}/{key}[{i}]" if where else f"{key}[{i}]")
    return found
