"""A method's subcommand: flags made from its spec's fields, and the specs a line asks for.

Every registered method with a `command` gets one (`parser.py`); a method whose command
needs a flag no field makes, or builds its specs otherwise, names a subclass of
`MethodCommand` as its `Method.cli` (`hooks.py` holds the built-in ones).
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from ..core.errors import TicketlabError
from ..specs import Spec, TrainSpec
from ..specs.base import parse_overrides
from ..specs.fields import default_of, has_default
from .common import batch_flag, common_flags
from .flags import add_flags, flags_of, given
from .paths import Path, build, flagless, get, replace_at, training_path


class MethodCommand:
    """The subcommand of one `Method`: its spec's flags in groups (training, the method's
    settings, running), and `specs(args)`, what a parsed line asks to run. A subclass
    adds hand-written flags (`hand_written`, `batch_flag`) and reads them (`adjust`)."""

    def __init__(self, method):
        self.method = method
        self.flags = flags_of(method.spec)
        self.training = training_path(method.spec)  # where its TrainSpec sits, if it has one

    # The grammar.
    def add_to(self, sub) -> None:
        m = self.method
        parser = sub.add_parser(m.command, help=m.help or None, description=m.help or None, epilog=self._epilog())
        groups = {"training": parser.add_argument_group("training"),
                  "settings": parser.add_argument_group(f"{m.command} settings"),
                  "running": parser.add_argument_group("running")}
        training = [f for f in self.flags if issubclass(f.owner, TrainSpec)]
        add_flags(parser, training, lambda flag: groups["training"])
        if self.training is not None:
            self._length_flags(groups["training"])
        self.hand_written(parser, groups)
        add_flags(parser, [f for f in self.flags if f not in training], lambda flag: groups["settings"])
        common_flags(groups["running"])  # last, for the usage line; add_flags leaves their spellings free
        if m.batch_help:
            self.batch_flag(groups["running"])
        parser.set_defaults(handler=self.run)

    def _length_flags(self, group) -> None:
        """--epochs N or --steps N set the training's duration."""
        length = group.add_mutually_exclusive_group()
        default = default_of({f.name: f for f in dataclasses.fields(TrainSpec)}["duration"])
        length.add_argument("--epochs", type=int, dest="length:ep", metavar="EPOCHS",
                            help=f"training length in epochs (default: the duration setting, {default})")
        length.add_argument("--steps", type=int, dest="length:it", metavar="STEPS",
                            help="training length in iterations")

    def batch_flag(self, group) -> None:
        """--batch, for a method that declares what it stacks (`Method.batch_help`)."""
        batch_flag(group, self.method.batch_help)

    def hand_written(self, parser, groups: dict) -> None:
        """Add the flags no field makes (to `groups`: training, settings, running), after the
        training flags and before the settings': a setting's flag of the same spelling then
        gives way."""

    def adjust(self, args, values: dict[Path, Any]) -> dict[Path, Any]:
        """The field values by path, with what the hand-written flags say."""
        return values

    def after_set(self, path: Path) -> bool:
        """Whether a `many` flag's values (its field's default when it is not given) are set
        after --set (which then leaves them alone, `_set_touches`); a field without a default
        is needed to build the spec at all, so it is set before."""
        return has_default(self._field(path))

    # The specs.
    def run(self, args) -> int:
        from .running import run_specs
        return run_specs(self.specs(args), args)

    def specs(self, args) -> list[Spec]:
        """One spec per combination of the `many` flags' values: those of fields without a
        default outermost (e.g. --densities), the others (e.g. --seeds) innermost."""
        runs = self._runs(args)
        values, many = given(args, self.flags)
        values = self.adjust(args, {**values, **self._length(args), **runs})
        given_many = set(many)
        for flag in self.flags:  # not given, they still set the field's default after --set (or its own flag's value)
            if flag.form == "many" and flag.path not in many and flag.path not in values and self.after_set(flag.path):
                many[flag.path] = [default_of(flag.field)]
        touched = self._set_touches(args, given_many)
        first = [(p, v) for p, v in many.items() if not self.after_set(p)]
        last = [(p, v) for p, v in many.items() if self.after_set(p) and p not in touched]
        out = []
        for combo in itertools.product(*(v for _, v in first)):
            built = build(self.method.spec, {**values, **{p: x for (p, _), x in zip(first, combo)}}, ())
            spec = self._override(built, args)
            for late in itertools.product(*(v for _, v in last)):
                one = spec
                for (path, _), value in zip(last, late):
                    one = replace_at(one, path, value)
                out.append(one)
        return out

    def _set_touches(self, args, given_many: set) -> set:
        """The fields of `many` flags that --set names. Such a field keeps the --set value
        when its list flag was not given (`--set seed=3` alone: seed 3, not the default of
        --seeds); with both, which one was meant is unclear, so that is refused."""
        keys = {self.method.spec.override_key(k) for k in parse_overrides(args.overrides)}  # train.seed on train
        touched = set()
        for flag in (f for f in self.flags if f.form == "many"):
            name = ".".join(flag.path)
            if not {name, flag.path[-1]} & keys:
                continue
            if flag.path in given_many:
                raise TicketlabError(f"--set {name}=... and {flag.spelling} both set {name}; give it once, with "
                                     f"{flag.spelling}.")
            touched.add(flag.path)
        return touched

    def _field(self, path: Path) -> dataclasses.Field:
        return next(f.field for f in self.flags if f.path == path)

    def _runs(self, args) -> dict[Path, Spec]:
        """The specs of the finished runs the positionals name."""
        from ..methods import method_of
        from ..store import RunStore
        out = {}
        for flag in (f for f in self.flags if f.form == "run"):
            name = getattr(args, flag.dest)
            spec = RunStore(args.runs_dir).open(name).spec
            if spec.kind != flag.item.kind:
                maker = method_of(flag.item.kind).command or flag.item.kind
                raise TicketlabError(f"ticketlab {self.method.command} reads a run of ticketlab {maker}; {name} "
                                     f"is a {spec.kind} run.")
            out[flag.path] = spec
        return out

    def _length(self, args) -> dict[Path, str]:
        epochs, steps = getattr(args, "length:ep", None), getattr(args, "length:it", None)
        if epochs is not None and epochs <= 0 or steps is not None and steps <= 0:
            raise TicketlabError("--epochs and --steps must be positive whole numbers.")
        if epochs is None and steps is None:
            return {}
        return {self.training + ("duration",): f"{epochs}ep" if epochs is not None else f"{steps}it"}

    def _override(self, spec: Spec, args) -> Spec:
        """`spec` with the --set overrides, which may not change a run it reads: that would
        silently train another run of that kind."""
        out = spec.with_overrides(args.overrides)
        for flag in (f for f in self.flags if f.form == "run"):
            if get(out, flag.path) != get(spec, flag.path):
                from ..methods import method_of
                maker, name = method_of(flag.item.kind).command or flag.item.kind, getattr(args, flag.dest)
                raise TicketlabError(f"--set cannot change the {flag.item.kind.upper()} run that ticketlab "
                                     f"{self.method.command} reads ({name}). Run the {flag.item.kind.upper()} "
                                     f"setting you want with ticketlab {maker}, then name that run here.")
        return out

    def _epilog(self) -> str | None:
        names = flagless(self.method.spec, {f.path for f in self.flags}, ())
        return f"Settings without a flag, given with --set KEY=VALUE: {', '.join(names)}." if names else None
