"""The command line: `main` parses a line and calls its subcommand's handler (`main.py`).
The grammar is `parser.py`: each method's subcommand comes from its registry entry and
its spec's fields (`command.py`, `flags.py`; `hooks.py` for the few hand-written flags),
the other commands are written out. Running specs is `running.py`, the other commands
`tools.py`, the views of runs `listing.py`."""
from .main import main

__all__ = ["main"]
