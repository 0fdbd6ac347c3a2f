"""What a method declares: one `Method` entry per experiment kind, in one open table.

The orchestrator, the command line, reports, similarity, listing and export read a run's
entry and never test its kind string. An entry names its functions as "module:function"
strings, imported only when called, so that light commands (`runs`, `show`, a finished
run) never import torch; a plugin may give the functions themselves instead.

    register_method(Method("mine", spec=MySpec, runner="my_package.mine:run_mine"))
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from ..core.errors import TicketlabError, UnknownNameError
from ..core.registry import check_function, check_name, resolve_function
from ..specs import Spec, register_spec

Hook = Union[str, Callable[..., Any], None]  # "module:function", the function itself, or none


@dataclass(frozen=True)
class Point:
    """One run's metric at one density: what a report plots and tables."""

    method: str
    density: float          # kept / prunable weights
    value: float            # the metric, e.g. test accuracy in [0, 1]
    seed: int
    level: int | None = None  # IMP level when there is one
    group: str = ""         # experiment label; reports show groups apart

    def __post_init__(self):
        # Written as a negation so that NaN is refused too.
        if not 0 < self.density <= 1:
            raise ValueError(f"density must be in (0, 1], got {self.density!r} ({self.method}, seed {self.seed})")


@dataclass(frozen=True)
class Method:
    """How one experiment kind runs, batches, reads as points and holds its masks."""

    kind: str                      # the `kind` of its spec
    spec: type[Spec]
    runner: Hook                   # (spec, run_dir, ctx) -> result dict
    batched: Hook = None           # (specs, run_dirs, ctx) -> result dicts: a group trained as one computation
    batch_key: Hook = None         # spec -> str or None: runs with one key may form a group
    points: Hook = None            # (run_dir, metric, suffix) -> [Point]: what `ticketlab report` shows
    curves: tuple[str, ...] = ()   # the Point.method names it makes, in the order reports list them
    variant: Hook = None           # spec -> str: tells apart several settings of this kind in one report group
    masks: Hook = None             # run_dir -> [(density, level or None, member, Mask)]: what similarity compares
    after_run: Hook = None         # (store, results) -> str: what the command line prints after its runs
    report: bool = False           # the command line writes a report of its runs' points after them
    exportable: bool = True        # its units hold one model and mask that `ticketlab export` can write
    # The command line: a subcommand whose flags come from the spec's fields (`specs/fields.py`).
    command: str | None = None     # its name; None: the kind with '-' for '_'; "": no subcommand
    help: str = ""                 # the subcommand's one-line help
    batch_help: str = ""           # what its --batch trains as one stacked computation; "": no --batch
    cli: Hook = None               # a `cli.command.MethodCommand` subclass: hand-written flags, own spec building

    def __post_init__(self) -> None:
        if self.command is None:
            object.__setattr__(self, "command", self.kind.replace("_", "-"))

    def has(self, hook: str) -> bool:
        return getattr(self, hook) is not None

    def call(self, hook: str, *args, **kwargs):
        """Call the function the entry names for `hook` (imported on first use)."""
        target = getattr(self, hook)
        if target is None:
            raise TicketlabError(f"The {self.kind} method declares no {hook}.")
        return resolve_function(target, f"The {self.kind} method's {hook}")(*args, **kwargs)


HOOKS = ("runner", "batched", "batch_key", "points", "variant", "masks", "after_run", "cli")


METHODS: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Make a method known by its kind (and its spec kind known too): the built-ins register
    through this call in `methods/__init__.py`, a plugin's methods the same way."""
    if METHODS.get(method.kind) == method:
        return method  # the same entry again (a module imported twice): nothing changes
    check_name(METHODS, "method", method.kind)
    for hook in HOOKS:
        if getattr(method, hook) is not None or hook == "runner":
            check_function(getattr(method, hook), f"The {method.kind} method's {hook}")
    if (method.batched is None) != (method.batch_key is None):
        raise TicketlabError(f"The {method.kind} method gives {'batched' if method.batched else 'batch_key'} "
                             "without the other: a batched runner needs the key that says which runs may share "
                             "it, and a key needs the runner.")
    if method.spec.kind != method.kind:
        raise TicketlabError(f"The method '{method.kind}' runs specs of kind '{method.spec.kind}'; the two names "
                             "must be the same.")
    register_spec(method.spec)
    METHODS[method.kind] = method
    return method


def method_of(kind: str) -> Method:
    try:
        return METHODS[kind]
    except KeyError:
        raise UnknownNameError("method kind", kind, sorted(METHODS)) from None


def methods_with(hook: str) -> list[str]:
    """The kinds that declare `hook`, for error messages that list what is valid."""
    return [kind for kind, m in METHODS.items() if m.has(hook)]


def curve_order() -> list[str]:
    """Every registered method's curve names, in registration order: the order of reports."""
    return [name for m in METHODS.values() for name in m.curves]
