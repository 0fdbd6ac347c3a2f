"""The open table of pruning-at-initialization scorers, by name, without torch.

A pai spec checks its `method` against these names (`names.pai_methods`), so the
table imports no torch; scores are named as 'module:function' strings where their
module needs torch, and `pai_mask` (scorers.py) imports them when it scores. The
built-in scorers register at the end of this module through the same call.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import TicketlabError, UnknownNameError
from ..core.registry import check_function, check_name, function_name

# A pai method that needs no score: `pai_methods()` lists it beside the scorers.
RANDOM = "random"


@dataclass(frozen=True)
class Scorer:
    name: str
    score: str | Callable  # score(model, weights, batches) -> importance per weight, higher = keep
    needs_data: bool = True  # False: data-free, `batches` is None
    iterative: bool = False  # True: scored again over `iterations` rounds, pruning gradually

    def __str__(self) -> str:
        kind = ("data-free" if not self.needs_data else "data-driven") + (", iterative" if self.iterative else "")
        return f"scorer '{self.name}' ({kind}) scored by {function_name(self.score)}"


SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str, score: str | Callable, *, needs_data: bool = True,
                    iterative: bool = False) -> Scorer:
    """Make a pruning-at-initialization scorer known: pai specs accept it as `method`.

        def magnitude(model, weights, batches):
            return [w.detach().abs() for w in weights]

        register_scorer("magnitude_at_init", magnitude, needs_data=False)

    `score(model, weights, batches)` gets a private copy of the network (train mode; free
    to change, its parameters need no restoring), that copy's prunable weights in
    `model.prunable_names` order, and the scoring batches as a list of (x, y) (None for a
    data-free scorer, `needs_data=False`). It returns one importance tensor per weight,
    of the weight's shape; one global ranking over the layers that are pruned keeps the
    highest (NaN is never kept). With `iterative=True` the copy is scored `iterations`
    times, the kept fraction shrinking as density ** (k / iterations) and the removed
    weights zeroed in the copy before each round, as SynFlow does. `score` may be a
    'module:function' string, imported on first use. A score with a `loss` keyword gets
    the run's loss(outputs, targets) there (its task's). A taken name is refused.
    """
    check_name(SCORERS, "pruning-at-initialization scorer", name)
    if name == RANDOM:
        raise TicketlabError(f"'{RANDOM}' is a pruning-at-initialization method already (a random mask, no "
                             "score); give the scorer another name.")
    check_function(score, f"The score of scorer '{name}'")
    record = Scorer(name, score, bool(needs_data), bool(iterative))
    SCORERS[name] = record
    return record


def scorer_names() -> list[str]:
    """Every registered scorer, in registration order (the built-ins first)."""
    return list(SCORERS)


def scorer(name: str) -> Scorer:
    try:
        return SCORERS[name]
    except (KeyError, TypeError):
        raise UnknownNameError("pruning-at-initialization method", str(name), scorer_names()) from None


register_scorer("snip", "ticketlab.prune.saliency:snip_importance")
register_scorer("grasp", "ticketlab.prune.saliency:grasp_importance")
register_scorer("synflow", "ticketlab.prune.synflow:synflow_importance", needs_data=False, iterative=True)
