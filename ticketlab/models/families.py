"""The open table of model families: a name's parser, its patterns and its builder.

Torch-free, so that a spec can check a model name (and be hashed, and its finished run
found) without loading PyTorch; `build` may be a 'module:function' string for that
reason, resolved by `build_model` (registry.py) when a model is built. The built-in
families register in `naming.py` through `register_model_family`, like any plugin.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.errors import TicketlabError, UnknownNameError
from ..core.registry import check_function, check_name, function_name


class BadName(Exception):
    """A name that belongs to a family but is malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Family:
    name: str
    parse: Callable[[str], object]  # its plan for a name of the family, None for any other name
    build: str | Callable  # build(name, plan, input_shape, num_classes) -> TicketModel
    patterns: tuple[str, ...]  # human-readable names, for error messages and `ticketlab models`
    tokens: bool = False  # reads token sequences: `build` then takes vocab_size=, and only token datasets fit

    def __str__(self) -> str:
        return (f"family '{self.name}' (names {', '.join(self.patterns)}; parsed by {function_name(self.parse)}, "
                f"built by {function_name(self.build)})")


FAMILIES: dict[str, Family] = {}


def register_model_family(name: str, parse: Callable[[str], object], build: str | Callable,
                          patterns: Sequence[str], *, tokens: bool = False) -> Family:
    """Make a model family known: its names then pass spec checks and `build_model` builds them.

        def parse(model_name):  # plan for a name of the family, None for any other name
            if not model_name.startswith("tiny_mlp_"):
                return None
            width = positive_int(model_name.removeprefix("tiny_mlp_"))
            if width is None:
                raise BadName("A tiny_mlp name ends in a positive width, e.g. tiny_mlp_16.")
            return width

        register_model_family("tiny_mlp", parse, "my_package.tiny:build", ["tiny_mlp_W"])

    `build(name, plan, input_shape, num_classes)` returns a `TicketModel`; given as a
    'module:function' string it is imported on first build, so checking names stays
    free of torch. Families are asked in registration order (the built-ins first); the
    first whose `parse` returns a plan owns the name. A taken family name is refused.
    A family with `tokens=True` reads token sequences (a dataset with a `vocab_size`, such
    as `modular_add_97`): its builder takes `vocab_size=` as a keyword, and only such
    datasets fit it; the other families refuse them.
    """
    check_name(FAMILIES, "model family", name)
    if not callable(parse):
        raise TicketlabError(f"The parser of model family '{name}' must be a function of the model name; "
                             f"got {parse!r}.")
    check_function(build, f"The builder of model family '{name}'")
    if isinstance(patterns, str) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise TicketlabError(f"Model family '{name}' needs a list of non-empty name patterns for messages, "
                             f"e.g. ['tiny_mlp_W']; got {patterns!r}.")
    family = Family(name, parse, build, tuple(patterns), bool(tokens))
    FAMILIES[name] = family
    return family


def model_patterns(tokens: bool | None = None) -> list[str]:
    """The name patterns of every registered family (those that read token sequences, or
    the others, when `tokens` is given), for error messages and `ticketlab models`."""
    return [pattern for family in FAMILIES.values() if tokens is None or family.tokens == tokens
            for pattern in family.patterns]


def _unknown(name: str, fix: str = "") -> UnknownNameError:
    error = UnknownNameError("model", name, model_patterns())
    if fix:
        error.args = (f"{error.args[0]} {fix}",)
    return error


def parse_model_name(name: str) -> tuple[str, object]:
    """(family name, plan) for a model name, or UnknownNameError saying what is valid."""
    if not isinstance(name, str):
        raise _unknown(repr(name))
    for family in FAMILIES.values():
        try:
            plan = family.parse(name)
        except BadName as bad:
            raise _unknown(name, str(bad)) from None
        if plan is not None:
            return family.name, plan
    raise _unknown(name)


def is_valid_model_name(name: str) -> bool:
    """Syntax check only: nothing is built, the input shape is not looked at."""
    try:
        parse_model_name(name)
    except UnknownNameError:
        return False
    return True
