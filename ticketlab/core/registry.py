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
from dataclasses import dataclass

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


# -- versions of what the user registers -------------------------------------------------
# A user's model, dataset or loss is their own code, which ticketlab cannot hash the way it
# hashes a spec: so each registration carries a version that the user bumps when its meaning
# changes, and a spec that uses it records that version (its run id changes with it). The
# fingerprint of the registering source lets a run notice code that changed without a bump.

@dataclass(frozen=True)
class Registered:
    """What a spec records of one registration it uses, and how to notice its code changing."""
    table: str  # 'model', 'dataset', 'loss'
    name: str
    version: int | str  # the user's version, or the content hash of a dataset read from a path
    origin: str  # where it was registered: the module (or file) of its function
    fingerprint: str | None  # sha256 of that module's source, when it can be read

    @property
    def key(self) -> str:
        return f"{self.table}:{self.name}"


VERSIONS: dict[str, Registered] = {}


def check_version(version: object, what: str) -> int | str:
    """A registration's version: a whole number >= 1 or a short line of text."""
    if type(version) is int and version >= 1:
        return version
    if isinstance(version, str) and version.strip() and version.isprintable() and len(version) <= 100:
        return version
    raise TicketlabError(f"The version of {what} is a whole number >= 1 or a short label such as '2024-05' "
                         f"(bump it whenever its meaning changes, so that its runs get new ids); got {version!r}.")


def source_of(target: object) -> tuple[str, str | None]:
    """(origin, sha256 of the source file) of a callable or a 'module:function' string; the
    module is not imported for a string (its file is found by the import system's finder)."""
    import hashlib
    import importlib.util
    import sys

    module_name = target.partition(":")[0] if isinstance(target, str) else getattr(target, "__module__", None)
    path = None
    module = sys.modules.get(module_name) if module_name else None
    if module is not None:
        path = getattr(module, "__file__", None)
    elif module_name:
        try:
            found = importlib.util.find_spec(module_name)
            path = found.origin if found is not None else None
        except (ImportError, ValueError):
            path = None
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
    except (OSError, TypeError):
        digest = None
    return (path or module_name or "?"), digest


def note_version(table: str, name: str, version: object, target: object = None) -> Registered:
    """Record the version of a registration (register_model, register_dataset, register_loss)."""
    origin, fingerprint = source_of(target) if target is not None else ("?", None)
    entry = Registered(table, name, check_version(version, f"{table} '{name}'"), origin, fingerprint)
    VERSIONS[entry.key] = entry
    return entry


def version_of(table: str, name: str) -> Registered | None:
    """The recorded version of a registration, None for the built-ins (their meaning is the package's)."""
    return VERSIONS.get(f"{table}:{name}")
