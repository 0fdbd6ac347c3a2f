"""Open name tables: what the package and its plugins register by name.

Model families, datasets, data formats, pruning-at-initialization scorers and methods each live
in a plain dict from name to record, filled by one register call per name (the built-ins
use the same calls). This module imports no torch, so that the names a spec checks stay
light; a table's functions may be given as 'module:function' strings, resolved only when
first used, so that a table can name a torch module without importing it.

A taken name is refused rather than replaced: two plugins claiming one name would
otherwise silently win by import order.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from .errors import AlreadyRegisteredError, TicketlabError

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
FUNCTION_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def check_name(table: dict, kind: str, name: object) -> None:
    """Refuse a malformed or taken name: register calls check it before their other arguments."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise TicketlabError(f"A {kind} name starts with a letter and holds only letters, digits and '_' "
                             f"(it names files, folders and config values); got {name!r}.")
    if name in table:
        raise AlreadyRegisteredError(
            f"The {kind} '{name}' is registered already: {table[name]}. Choose another name. "
            f"Registered {kind}s: {', '.join(table)}.")


def check_function(target: object, what: str) -> None:
    """Refuse, at registration, what is neither a callable nor a 'module:function' string."""
    if callable(target):
        return
    if not isinstance(target, str) or not FUNCTION_PATH.fullmatch(target):
        raise TicketlabError(f"{what} is a callable or a 'module:function' string, e.g. "
                             f"'my_package.my_module:my_function'; got {target!r}.")


def function_name(target: object) -> str:
    """How a table's function is shown in messages."""
    if isinstance(target, str):
        return target
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


def resolve_function(target: str | Callable, what: str) -> Callable:
    """The callable itself, or the function a 'module:function' string names (imported now)."""
    if callable(target):
        return target
    module, _, attribute = str(target).partition(":")
    try:
        found: object = importlib.import_module(module)
        for part in attribute.split("."):
            found = getattr(found, part)
    except ModuleNotFoundError as error:
        if error.name != module and not module.startswith(f"{error.name}."):  # found, but it imports a missing one
            raise TicketlabError(f"{what} '{target}': its module imports '{error.name}', which cannot be found; "
                                 "install it, or fix that import.") from error
        raise TicketlabError(f"{what} '{target}' names a module that cannot be found ({error}); check the "
                             "module name, and that its package is installed or on the path.") from error
    except AttributeError as error:
        raise TicketlabError(f"{what} '{target}': the module has no '{attribute}' ({error}); check the "
                             "function name.") from error
    if not callable(found):
        raise TicketlabError(f"{what} '{target}' names a {type(found).__name__}, not a function.")
    return found
