"""Comma lists typed on the command line, read after parsing so that a bad one is one
paragraph that says what was given and what form is valid."""
from __future__ import annotations

from ..core.errors import TicketlabError


def number_list(text: str, what: str, kind=float) -> list:
    """A comma list of numbers (`kind` int or float), or an error that shows the form."""
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        example = "0,1,2" if kind is int else "0.1,0.5,0.9"
        numbers = "whole numbers" if kind is int else "numbers"
        raise TicketlabError(f"{what} takes a comma list of {numbers}, e.g. {example}; got {text!r}.") from None


def check_at_least(args, limits: tuple[tuple[str, int], ...]) -> None:
    """Each count flag given (`args.<name>`, None when left out) at least its limit."""
    for name, least in limits:
        value = getattr(args, name)
        if value is not None and value < least:
            raise TicketlabError(f"--{name.replace('_', '-')} must be at least {least}, got {value}.")


def typed_list(text: str, what: str, kind=str) -> list:
    """A comma list of `kind` (str, int or float); blank items are dropped."""
    if kind is str:
        return [part.strip() for part in text.split(",") if part.strip()]
    return number_list(text, what, kind)


def typed_items(items: list[str], what: str, kind=str) -> list:
    """The values of a repeatable flag, one item of `kind` each time it is given."""
    if kind is str:
        return list(items)
    values = [number_list(item, what, kind) for item in items]
    if any(len(v) != 1 for v in values):
        raise TicketlabError(f"{what} takes one number each time it is given, e.g. {what} 1 {what} 2; "
                             f"got {', '.join(repr(i) for i in items)}.")
    return [v[0] for v in values]
