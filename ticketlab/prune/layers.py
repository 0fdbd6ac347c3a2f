"""Naming layers in settings: exact parameter names, short module names, or aliases.

`output` is the model's output layer and `first` its first layer (the first prunable one,
unless the model names another: `first_name`); `fc` or `fc.weight` both name the weight
`fc.weight`; shell-style patterns (`stages.0.*`) match several. A selector that matches
nothing is an error that lists the valid names, except `output` on a model whose output
layer is not prunable (a transformer's head, by default): it is dense already, as asked.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from ..core.errors import SpecError


def resolve_layers(selectors: Iterable[str], prunable: Sequence[str], output_name: str,
                   first_name: str | None = None, *, rates: bool = False) -> list[str]:
    """The prunable weight names that `selectors` denote, in model order.

    `first` is `first_name`, else the one that `prunable` carries (a model's
    `prunable_names`: a registered model may name another layer its first), else the first
    prunable weight. `rates`: the selectors give layers rates, which a layer that is not
    prunable cannot take (`output` on a model whose head is dense is then an error)."""
    chosen: set[str] = set()
    for selector in selectors:
        matches = match_layer(selector, prunable, output_name, first_name)
        if not matches and not rates and selector.strip() == "output" and output_name not in prunable:
            continue  # a model whose head is not prunable (a transformer's, by default): dense already
        if not matches:
            raise SpecError(
                f"The layer '{selector}' names no prunable weight of this model. Use 'output', 'first', "
                f"a weight name or a pattern; the prunable weights are: {', '.join(prunable)}.")
        chosen.update(matches)
    return [name for name in prunable if name in chosen]


def match_layer(selector: str, prunable: Sequence[str], output_name: str, first_name: str | None = None) -> list[str]:
    selector = selector.strip()
    if selector == "output":
        return [output_name] if output_name in prunable else []
    if selector == "first":
        first = first_name or getattr(prunable, "first_name", None)
        return [first] if first else list(prunable[:1])
    for candidate in (selector, f"{selector}.weight"):
        if candidate in prunable:
            return [candidate]
    return [n for n in prunable if fnmatch.fnmatchcase(n, selector) or fnmatch.fnmatchcase(n, f"{selector}.weight")]


def parse_rates(items: Iterable[str]) -> list[tuple[str, float]]:
    """`LAYER=FRACTION` strings -> (selector, fraction) pairs, with fractions in (0, 1)."""
    pairs = []
    for item in items:
        layer, sep, value = item.rpartition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = float("nan")
        if not sep or not layer.strip() or not 0 < rate < 1:
            raise SpecError(f"Malformed layer rate '{item}': write LAYER=FRACTION with a fraction in (0, 1), "
                            "e.g. output=0.1.")
        pairs.append((layer.strip(), rate))
    return pairs
