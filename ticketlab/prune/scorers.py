"""Pruning at initialization by any registered scorer (registry.py): SNIP, GraSP, SynFlow
(saliency.py, synflow.py, with the papers' definitions) or a plugin's.

One global ranking over the prunable weights outside `ignore` keeps exactly
round(density x n) of them; ignored layers stay dense. Ties are broken by position
(among equal scores the earlier weight is removed first, as in magnitude pruning). An
iterative scorer (SynFlow) is scored over `iterations` rounds whose kept fraction
shrinks exponentially, density ** (k / iterations), to the exact count.

Scorers run on a train-mode copy, as the official GraSP code does: BatchNorm normalizes
with batch statistics, so a freshly initialized net is scored as it will be trained
(its eval-mode running statistics are still the identity then); SynFlow switches its
copy to eval mode itself. Everything is scored on a private copy, so the caller's
weights, buffers and gradients are never touched.
"""
from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Collection, Iterable

import torch

from ..core.errors import SpecError, TicketlabError
from ..core.registry import resolve_function
from ..sparse import Mask
from .registry import SCORERS, Scorer, scorer  # noqa: F401 (SCORERS re-exported: every scorer, by name)

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


def pai_mask(method: str, model: torch.nn.Module, batches: Batches | None, density: float, *,
             ignore: Collection[str] = (), iterations: int = 100, loss: Callable | None = None) -> Mask:
    """A mask keeping the top round(density x n) prunable weights outside `ignore` by `method`.

    `loss(outputs, targets)`, the run's mean loss, reaches a score that takes a `loss`
    keyword (SNIP's and GraSP's do); None leaves each score its own (cross-entropy)."""
    chosen = scorer(method)
    names = _check(chosen, model, batches, density, ignore, iterations)
    score = resolve_function(chosen.score, f"The score of scorer '{chosen.name}'")
    # A list: GraSP walks the batches twice, a generator would be spent. A data-free scorer
    # gets none, so the caller's loader is not drawn from.
    batches = list(batches) if chosen.needs_data else None
    twin = scoring_copy(model)
    total = sum(model.get_parameter(n).numel() for n in names)
    rounds = iterations if chosen.iterative else 1
    alive = None
    for k in range(1, rounds + 1):
        if alive is not None:
            _zero_removed(twin, names, alive)
        weights = [twin.get_parameter(n) for n in twin.prunable_names]
        importance = dict(zip(twin.prunable_names, _importance(chosen, score, twin, weights, batches, loss)))
        # density ** 1.0 == density exactly, so the last round keeps round(density x n).
        alive = keep_highest([importance[n] for n in names], round(density ** (k / rounds) * total), alive)
    kept = dict(zip(names, alive))
    return Mask({n: kept[n] if n in kept else torch.ones_like(model.get_parameter(n), dtype=torch.bool)
                 for n in model.prunable_names})


def scoring_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A private train-mode copy to score on: the caller's weights, buffers and grads stay untouched."""
    twin = copy.deepcopy(model)
    twin.train(True)
    for p in twin.parameters():
        p.grad = None  # deepcopy carries the caller's grads along; they are not ours to use
        p.requires_grad_(True)
    return twin


@torch.no_grad()
def _zero_removed(twin: torch.nn.Module, names: list[str], alive: list[torch.Tensor]) -> None:
    """Zero what earlier rounds removed, so that the next round scores the pruned net."""
    for name, keep in zip(names, alive):
        weight = twin.get_parameter(name)
        weight.mul_(keep.to(weight.dtype))


def _importance(chosen: Scorer, score, twin, weights, batches, loss) -> list[torch.Tensor]:
    """The scorer's importances, refused with a clear error unless one tensor per weight, same shape."""
    # Only a score that asks for the loss gets it: a plugin's three-argument score keeps working.
    found = score(twin, weights, batches, loss=loss) if loss is not None and _takes_loss(score) else \
        score(twin, weights, batches)
    found = list(found) if isinstance(found, (list, tuple)) else found
    if not isinstance(found, list) or len(found) != len(weights) or not all(
            isinstance(s, torch.Tensor) and s.shape == w.shape for s, w in zip(found, weights)):
        raise TicketlabError(f"The {chosen} must return one importance tensor per prunable weight "
                             f"({len(weights)}, each of its weight's shape); it returned {_describe(found)}.")
    return found


def _takes_loss(score) -> bool:
    try:
        return "loss" in inspect.signature(score).parameters
    except (TypeError, ValueError):  # a builtin or C function without a signature
        return False


def _describe(found) -> str:
    if isinstance(found, list):
        return "[" + ", ".join(str(tuple(s.shape)) if isinstance(s, torch.Tensor) else type(s).__name__
                               for s in found) + "]"
    return type(found).__name__


def _check(chosen: Scorer, model, batches, density, ignore, iterations) -> list[str]:
    """The names to rank, after refusing anything that cannot give a meaningful mask."""
    if not 0.0 < density <= 1.0:
        raise SpecError(f"Density {density} is outside (0, 1]: give the fraction of weights to keep, "
                        "e.g. 0.1 to keep 10%.")
    if batches is None and chosen.needs_data:
        data_free = [s.name for s in SCORERS.values() if not s.needs_data]
        raise SpecError(f"{chosen.name} scores weights by gradients of the loss and needs batches of data; "
                        f"the data-free scorers are {', '.join(data_free) or 'none'}.")
    if chosen.iterative and iterations < 1:
        raise SpecError(f"{chosen.name} prunes over rounds and needs at least one iteration, got {iterations}.")
    unknown = sorted(set(ignore) - set(model.prunable_names))
    if unknown:
        raise SpecError(f"Ignored layers {', '.join(unknown)} are not prunable weights of the model; "
                        f"prunable: {', '.join(model.prunable_names)}.")
    names = [n for n in model.prunable_names if n not in ignore]
    if not names:
        raise SpecError("No prunable weights are left outside the ignored layers; nothing to score.")
    return names


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
