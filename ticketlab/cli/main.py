"""The command line: one subcommand per method (its flags made from its spec's fields) and
per analysis.

Every command that runs or shows an experiment accepts --json and then prints one JSON
document as its last output on stdout; progress and notes go to stderr. A user mistake
prints one paragraph and exits with status 2, never a traceback.

Plugins (`--plugins FILE_OR_MODULE`, repeatable, any command; `$TICKETLAB_PLUGINS`; the
entry points of `ticketlab.plugins`) are imported before the parser is built; the
processes a command starts (sweep workers, Ray tasks) are given the same list
(`core/plugins.py`), and torchrun's ranks each run this same command line.
"""
from __future__ import annotations

import sys

from ..core.errors import TicketlabError
from ..core.plugins import load_plugins
from .parser import PLUGINS_FLAG, build_parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        # Plugins first: one may register a method, whose subcommand and spec flags the parser
        # is built from, and the names the flags give are checked against their tables.
        plugins, argv = split_plugins(argv)
        load_plugins(plugins)
        parser = build_parser()
    except TicketlabError as err:  # a plugin that fails, or its entry that cannot become a command
        return _error(err)
    try:
        args = parser.parse_args(argv)
    except TicketlabError as err:  # a --plugins abbreviated, loaded as it is parsed
        return _error(err)
    try:
        from ..core.registry import resolve_function
        from .files import check_paths
        check_paths(args)  # every file and folder argument, before any command touches one
        return resolve_function(args.handler, f"The {args.command} command")(args)
    except TicketlabError as err:
        return _error(err)
    except KeyboardInterrupt:
        print("ticketlab: interrupted; run the same command again to resume from the last checkpoint.",
              file=sys.stderr)
        return 130


def split_plugins(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the values of every --plugins, the other arguments): --plugins may stand anywhere
    before a '--', before or after the subcommand, as every subcommand takes it."""
    plugins, rest, index = [], [], 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            rest += argv[index:]
            break
        if token == PLUGINS_FLAG:
            if index + 1 >= len(argv) or not argv[index + 1].strip():
                raise TicketlabError(f"{PLUGINS_FLAG} needs a plugin after it: a .py file or a module name, e.g. "
                                     f"{PLUGINS_FLAG} my_models.py (repeat the flag for several).")
            plugins.append(argv[index + 1])
            index += 2
            continue
        if token.startswith(PLUGINS_FLAG + "="):
            plugins.append(token.partition("=")[2])
        else:
            rest.append(token)
        index += 1
    return plugins, rest


def _error(err: TicketlabError) -> int:
    print(f"ticketlab: error: {err}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
