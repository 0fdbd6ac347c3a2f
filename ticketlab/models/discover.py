"""Which weights of a registered model are pruned, and which layers `output` and `first` mean.

By default the weights of every Linear, Conv1d/2d/3d and ConvTranspose1d/2d/3d, in module
order; biases, norms and embeddings stay dense. A weight that two layers share (tied)
counts once, under the name `named_parameters` gives it, which is what masks and state
dicts hold. Computed once when the model is built, so that copies and pickles carry names
only (a predicate need not be picklable).
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..core.errors import TicketlabError
from .base import TRANSPOSED
from .own import OwnModel

PRUNED_KINDS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, *TRANSPOSED)


@dataclass(frozen=True)
class Layers:
    prunable: tuple[str, ...]
    output: str
    first: str
    transposed: tuple[str, ...]  # prunable weights with inputs on dimension 0 (ConvTranspose)


def _weights_of(module: nn.Module, kinds: tuple[type, ...], names: dict[int, str]) -> list[str]:
    found = [names.get(id(m.weight)) for m in module.modules() if isinstance(m, kinds)]
    return list(dict.fromkeys(n for n in found if n is not None))  # tied weights once, in module order


def _prunable(module: nn.Module, plan: OwnModel, params: dict[str, nn.Parameter], names: dict[int, str]) -> list[str]:
    where = f"model '{plan.name}'"
    if plan.prunable is None:
        chosen = _weights_of(module, PRUNED_KINDS, names)
        if not chosen:
            raise TicketlabError(f"The {where} has no Linear, Conv or ConvTranspose layer, whose weights are pruned "
                                 "by default; name the weights to prune with register_model(..., prunable=[...]) "
                                 f"from its parameters: {', '.join(params)}.")
        return chosen
    if callable(plan.prunable):
        try:
            chosen = [n for n, p in params.items() if plan.prunable(n, p)]
        except Exception as error:  # the user's predicate
            raise TicketlabError(f"The prunable= predicate of the {where} raised {type(error).__name__}: "
                                 f"{' '.join(str(error).split())} (it takes (name, parameter), on the meta device too: "
                                 "decide by name and shape).") from None
        if not chosen:
            raise TicketlabError(f"The prunable= predicate of the {where} chose none of its parameters "
                                 f"({', '.join(params)}); it must choose at least one.")
        return chosen
    unknown = [n for n in plan.prunable if n not in params]
    if unknown:
        raise TicketlabError(f"prunable= of the {where} names {', '.join(repr(n) for n in unknown)}, which it does "
                             f"not have; its parameters are: {', '.join(params)}.")
    return [n for n in params if n in plan.prunable]  # model order, as masks list them


def _layer(plan: OwnModel, what: str, value: str, prunable: list[str]) -> str:
    for candidate in (value.strip(), f"{value.strip()}.weight"):
        if candidate in prunable:
            return candidate
    raise TicketlabError(f"{what}= of model '{plan.name}' is {value!r}, which names no prunable weight; the "
                         f"prunable weights are: {', '.join(prunable)}.")


def find_layers(module: nn.Module, plan: OwnModel) -> Layers:
    params = dict(module.named_parameters())
    names = {id(p): n for n, p in params.items()}
    prunable = _prunable(module, plan, params, names)
    if plan.output is not None:
        output = _layer(plan, "output", plan.output, prunable)
    else:
        linears = [n for n in _weights_of(module, (nn.Linear,), names) if n in prunable]
        output = linears[-1] if linears else prunable[-1]
    first = _layer(plan, "first", plan.first, prunable) if plan.first is not None else prunable[0]
    transposed = tuple(n for n in _weights_of(module, TRANSPOSED, names) if n in prunable)
    return Layers(tuple(prunable), output, first, transposed)
