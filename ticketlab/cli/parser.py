"""The command line's grammar: every subcommand, its flags and their help.

A method's subcommand is made from its registry entry and its spec's fields
(`command.py`); the commands that are not methods are written out here. Each subcommand
names its handler (`handler`: a function, or "module:function" imported when called),
so `main.py` dispatches without testing names and light commands import little.
"""
from __future__ import annotations

import argparse

from ..core.errors import TicketlabError
from .common import common_flags, data_dir_flag, speed_flags, tensorboard_flag
from .files import IN_FILE, OUT_FILE, OUT_FOLDER, path_argument

PLUGINS_FLAG = "--plugins"
_TOOLS = "ticketlab.cli.tools:"
_LISTING = "ticketlab.cli.listing:command_"


def build_parser() -> argparse.ArgumentParser:
    from ..methods import METHODS
    from ..core.registry import resolve_function
    from .command import MethodCommand

    parser = argparse.ArgumentParser(prog="ticketlab", description="A laboratory for lottery-ticket research.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tools = argparse.ArgumentParser().add_subparsers()  # the other commands' names, which methods may not take
    _tools(tools)
    taken = {}
    for method in METHODS.values():
        if not method.command:
            continue
        if method.command in taken or method.command in tools.choices:
            raise TicketlabError(f"The command '{method.command}' of the method '{method.kind}' is taken already "
                                 f"(by {taken.get(method.command, 'a built-in command')}); give its entry another "
                                 "command.")
        taken[method.command] = f"the method '{method.kind}'"
        command = resolve_function(method.cli, f"The {method.kind} method's cli") if method.cli else MethodCommand
        command(method).add_to(sub)
    _tools(sub)
    for command in {id(p): p for p in [parser, *sub.choices.values()]}.values():
        _plugins_flag(command)
    return parser


class _LoadPlugin(argparse.Action):
    """`main` takes every --plugins out of the arguments and loads it before building this
    parser; what reaches here is an abbreviation (--plug), loaded now, in time for the spec."""

    def __call__(self, parser, namespace, values, option_string=None):
        from ..core.plugins import load_plugin
        load_plugin(values, option_string)


def _plugins_flag(parser) -> None:
    parser.add_argument(PLUGINS_FLAG, action=_LoadPlugin, metavar="FILE_OR_MODULE",
                        help="import a plugin first, a .py file or a module that registers models, datasets, "
                             "losses or methods (repeatable; also $TICKETLAB_PLUGINS and the entry points of "
                             "ticketlab.plugins)")


def _tools(sub) -> None:
    similar = sub.add_parser("similarity", help="Jaccard similarity of the masks of runs, and abrupt changes")
    similar.set_defaults(handler=_TOOLS + "similarity")
    similar.add_argument("runs", nargs="+", help="runs with several masks: IMP seeds or controls, PaI/DST methods")
    _out_folder(similar, "similarity")
    similar.add_argument("--factor", type=float, default=3.0, help="robust deviations that make a change abrupt (3)")
    similar.add_argument("--min-jump", type=float, default=0.05, help="smallest abrupt change of the mean score")
    common_flags(similar, runs=False)

    export = sub.add_parser("export", help="write a ticket as a self-contained inference file (dense, csr, 2:4)")
    export.set_defaults(handler=_TOOLS + "export")
    export.add_argument("run", help="a finished run (id, unique prefix or directory)")
    where = export.add_mutually_exclusive_group()
    where.add_argument("--level", type=int, help="an IMP level")
    where.add_argument("--unit", help="any unit of the run holding final weights, e.g. level_03/oneshot")
    export.add_argument("--format", default="csr", help="dense, csr (default), 2:4 or slim")
    path_argument(export, "-o", "--out", required=True, help="the file to write (.safetensors)", kind=OUT_FILE,
                  noun="output file", valid="a file to write (not a folder; missing folders above it are created)")
    common_flags(export, runs=False)

    robust = sub.add_parser("evaluate", help="clean and corrupted (-C) test accuracy of a run's stored models")
    robust.set_defaults(handler=_TOOLS + "evaluate")
    robust.add_argument("run", help="any finished run (id, unique prefix or directory)")
    robust.add_argument("--unit", help="only this unit and those below it, e.g. level_03")
    robust.add_argument("--ood-size", type=int, default=0, help="test images per corrupted set (default: all)")
    common_flags(robust)

    report = sub.add_parser("report", help="tables and accuracy-vs-density plot of finished runs")
    report.set_defaults(handler=_TOOLS + "report")
    report.add_argument("runs", nargs="+", help="run ids (or unique prefixes, or directories)")
    _out_folder(report, "report")
    report.add_argument("--metric", default="test_accuracy",
                        help="test_accuracy (final, default) or test_accuracy_at_best_val (needs a validation split)")
    common_flags(report, runs=False)

    run = sub.add_parser("run", help="run any experiment from a YAML config file")
    run.set_defaults(handler=_TOOLS + "run_config")
    path_argument(run, "config", kind=IN_FILE, noun="config file", label="CONFIG",
                  valid="an existing YAML file of settings (with 'kind: train' or another kind)")
    common_flags(run)

    sweep = sub.add_parser("sweep", help="run every point of a sweep file (local processes or Ray)")
    sweep.set_defaults(handler=_TOOLS + "sweep")
    path_argument(sweep, "sweep_file", metavar="SWEEP.yaml", help="a base experiment and axes (docs/scaling.md)",
                  kind=IN_FILE, noun="sweep file", valid="an existing YAML sweep file (docs/scaling.md)")
    sweep.add_argument("--backend", default="local", help="local (a process per run, default), ray, or serial")
    sweep.add_argument("--address", help="a running Ray cluster (HOST:PORT, ray://HOST:PORT or auto); "
                                         "without it the ray backend starts a local one")
    sweep.add_argument("--cpus-per-run", type=int, default=1, help="cores (and torch threads) per run (default 1)")
    sweep.add_argument("--gpus-per-run", type=int, default=0, help="GPUs per run (default 0)")
    sweep.add_argument("--max-concurrent", type=int, help="at most this many runs at once")
    sweep.add_argument("--retries", type=int, help="attempts after the first before a run is failed "
                                                   "(default: the file's, else 2)")
    sweep.add_argument("--checkpoint-every", default="1ep", help="save each run's training state this often")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs and which have finished; run nothing")
    data_dir_flag(sweep)
    sweep.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    speed_flags(sweep)
    tensorboard_flag(sweep)
    sweep.add_argument("--quiet", action="store_true", help="no progress output")
    common_flags(sweep, runs=False, writes=True)

    runs = sub.add_parser("runs", help="table of runs from the index")
    runs.set_defaults(handler=_LISTING + "runs")
    runs.add_argument("--kind", help="only runs of this experiment kind")
    runs.add_argument("--status", help="only runs with this status (finished, running, failed, ...)")
    common_flags(runs, runs=False, writes=True)  # it brings the index up to date

    show = sub.add_parser("show", help="one run's spec, status and metrics")
    show.set_defaults(handler=_LISTING + "show")
    show.add_argument("run", help="run id, unique prefix of its hash, or directory")
    common_flags(show, runs=False)

    from .bench import add_bench
    add_bench(sub)

    for name, what in (("models", "model names"), ("datasets", "dataset names and shapes")):
        sub.add_parser(name, help=f"list {what}").set_defaults(handler=_LISTING + name)


def _out_folder(parser, default: str) -> None:
    path_argument(parser, "-o", "--out", default=default, help=f"output folder (default ./{default})",
                  kind=OUT_FOLDER, noun="output folder",
                  valid="a folder to write into (not a file; created with the folders above it if missing)")
