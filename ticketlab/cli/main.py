"""The command line: one subcommand per method (its flags made from its spec's fields) and
per analysis.

Every command that runs or shows an experiment accepts --json and then prints one JSON
document as its last output on stdout; progress and notes go to stderr. A user mistake
prints one paragraph and exits with status 2, never a traceback.
"""
from __future__ import annotations

import sys

from ..core.errors import TicketlabError
from .parser import build_parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except TicketlabError as err:  # a plugin's entry that cannot become a command
        return _error(err)
    args = parser.parse_args(argv)
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


def _error(err: TicketlabError) -> int:
    print(f"ticketlab: error: {err}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
