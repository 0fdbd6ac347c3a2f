"""The command line: `main` turns arguments into specs and runs them (`main.py`); the
grammar of subcommands and flags is `parser.py`, the views of runs `listing.py`."""
from .main import main

__all__ = ["main"]
