"""Pruning at initialization: SNIP, GraSP and SynFlow masks, with the papers' definitions.

One global ranking over the prunable weights outside `ignore` keeps exactly
round(density x n) of them; ignored layers stay dense. Ties are broken by position
(among equal scores the earlier weight is removed first, as in magnitude pruning).

- SNIP (Lee et al. 2019): keep the highest |g * w|, g = gradient of the cross-entropy
  summed over the given batches.
- GraSP (Wang et al. 2020): S = -(w * Hg), g the summed gradient (detached), Hg by
  double backprop over all prunable weights (the official code's Conv/Linear weights,
  ignored layers included). The *highest* S are removed, as in the paper and its code;
  not |S|. The official code also divides the logits by a temperature T=200; we use the
  plain cross-entropy of the paper.
- SynFlow (Tanaka et al. 2020): see `synflow.py`; `iterations` rounds whose kept
  fraction shrinks exponentially, density ** (k / iterations), to the exact count.

SNIP and GraSP run in train mode, as the official GraSP code does: BatchNorm normalizes
with batch statistics, so a freshly initialized net is scored as it will be trained
(its eval-mode running statistics are still the identity then). Everything is scored
on a private copy, so the caller's weights, buffers and gradients are never touched.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable

import torch
import torch.nn.functional as F

from ..core.errors import SpecError, UnknownNameError
from ..sparse import Mask
from .synflow import apply_alive, linearized_copy, scoring_copy, synflow_scores

SCORERS = ("snip", "grasp", "synflow")  # the spec adds "random", which needs no score

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def pai_mask(method: str, model: torch.nn.Module, batches: Batches | None, density: float, *,
             ignore: Collection[str] = (), iterations: int = 100) -> Mask:
    """A mask keeping the top round(density x n) prunable weights outside `ignore` by `method`."""
    names = _check(method, model, batches, density, ignore, iterations)
    total = sum(_param(model, n).numel() for n in names)
    count = round(density * total)
    if method == "synflow":
        keep = _synflow_keep(model, names, density, iterations)
    else:
        batches = list(batches)  # GraSP walks them twice; a generator would be spent
        twin = scoring_copy(model, train=True)
        weights = [_param(twin, n) for n in twin.prunable_names]
        score = _snip_importance if method == "snip" else _grasp_importance
        importance = dict(zip(twin.prunable_names, score(twin, weights, batches)))
        keep = keep_highest([importance[n] for n in names], count)
    kept = dict(zip(names, keep))
    return Mask({n: kept[n] if n in kept else torch.ones_like(_param(model, n), dtype=torch.bool)
                 for n in model.prunable_names})


def _check(method, model, batches, density, ignore, iterations) -> list[str]:
    """The names to rank, after refusing anything that cannot give a meaningful mask."""
    if method not in SCORERS:
        raise UnknownNameError("pruning-at-initialization method", method, list(SCORERS))
    if not 0.0 < density <= 1.0:
        raise SpecError(f"Density {density} is outside (0, 1]: give the fraction of weights to keep, "
                        "e.g. 0.1 to keep 10%.")
    if batches is None and method != "synflow":
        raise SpecError(f"{method} scores weights by gradients of the loss and needs batches of data; "
                        "only synflow is data-free.")
    if method == "synflow" and iterations < 1:
        raise SpecError(f"SynFlow needs at least one iteration, got {iterations}.")
    unknown = sorted(set(ignore) - set(model.prunable_names))
    if unknown:
        raise SpecError(f"Ignored layers {', '.join(unknown)} are not prunable weights of the model; "
                        f"prunable: {', '.join(model.prunable_names)}.")
    names = [n for n in model.prunable_names if n not in ignore]
    if not names:
        raise SpecError("No prunable weights are left outside the ignored layers; nothing to score.")
    return names


def _param(model: torch.nn.Module, name: str) -> torch.nn.Parameter:
    return model.get_parameter(name)


def _loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    return F.cross_entropy(model(x.to(device)), y.to(device))


def _grads(outputs: torch.Tensor, weights: list[torch.Tensor], **kwargs) -> list[torch.Tensor]:
    # A weight the output does not reach (unused layer) has a zero gradient, not an error.
    grads = torch.autograd.grad(outputs, weights, allow_unused=True, **kwargs)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]


def _summed_grad(model, weights, batches) -> list[torch.Tensor]:
    if not batches:
        raise SpecError("No batches were given to score the weights on; pass at least one (x, y) batch.")
    total = [torch.zeros_like(w) for w in weights]
    for x, y in batches:
        for t, g in zip(total, _grads(_loss(model, x, y), weights)):
            t.add_(g)
    return total


def _snip_importance(model, weights, batches) -> list[torch.Tensor]:
    grads = _summed_grad(model, weights, batches)
    return [(w.detach() * g).abs() for w, g in zip(weights, grads)]


def _grasp_importance(model, weights, batches) -> list[torch.Tensor]:
    """w * Hg, i.e. -S: keeping the highest of these removes the highest S = -(w * Hg)."""
    g = _summed_grad(model, weights, batches)
    hg = [torch.zeros_like(w) for w in weights]
    for x, y in batches:
        grads = _grads(_loss(model, x, y), weights, create_graph=True)
        z = sum((gi * g0).sum() for gi, g0 in zip(grads, g))
        for h, part in zip(hg, _grads(z, weights)):
            h.add_(part)
    return [w.detach() * h for w, h in zip(weights, hg)]


def _synflow_keep(model, names, density, iterations) -> list[torch.Tensor]:
    linear = linearized_copy(model)
    weights = [_param(linear, n) for n in names]
    ones = torch.ones((1, *model.input_shape), dtype=torch.float64, device=weights[0].device)
    alive = [torch.ones_like(w, dtype=torch.bool) for w in weights]
    total = sum(w.numel() for w in weights)
    for k in range(1, iterations + 1):
        apply_alive(weights, alive)
        # density ** 1.0 == density exactly, so the last round keeps round(density x n).
        alive = keep_highest(synflow_scores(linear, weights, ones), round(density ** (k / iterations) * total),
                             alive)
    return alive


def keep_highest(scores: list[torch.Tensor], count: int, alive: list[torch.Tensor] | None = None
                 ) -> list[torch.Tensor]:
    """Bool tensors keeping the `count` alive entries with the highest scores, one global ranking."""
    alive = alive or [torch.ones_like(s, dtype=torch.bool) for s in scores]
    # float64, not float32: SynFlow's scores span more than float32's range.
    flat = torch.cat([s.detach().flatten().double() for s in scores])
    flat = torch.where(flat.isnan(), float("-inf"), flat)  # an undefined score is never kept
    keep = torch.cat([a.flatten() for a in alive]).clone()
    candidates = keep.nonzero().squeeze(1)
    # Stable ascending sort: among equal scores the earlier position goes first.
    removed = torch.sort(flat[candidates], stable=True).indices[:max(candidates.numel() - count, 0)]
    keep[candidates[removed]] = False
    return [part.view_as(a) for part, a in zip(torch.split(keep, [a.numel() for a in alive]), alive)]
