"""User-facing errors.

Every mistake a user can make (a bad name, an impossible value, a missing or corrupt
file) raises a `TicketlabError` whose message says what was wrong and how to fix it.
The CLI prints that message as one paragraph and exits non-zero, never a traceback.
"""
from __future__ import annotations

import difflib


class TicketlabError(Exception):
    """Base of every error that is the user's to fix."""


class UnknownNameError(TicketlabError, KeyError):
    """A model, dataset, optimizer, ... name that is not registered."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"Unknown {kind} '{name}'.{hint} Valid {kind}s: {', '.join(valid)}.")

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.args[0]


class AlreadyRegisteredError(TicketlabError, ValueError):
    """A name (model family, dataset, scorer, method, ...) that its table holds already."""


class SpecError(TicketlabError, ValueError):
    """An experiment specification that is malformed or impossible."""


class DatasetError(TicketlabError):
    """A dataset that is missing, truncated, corrupt or cannot be downloaded."""


class ModelShapeError(TicketlabError, ValueError):
    """A model that does not fit the dataset's input shape."""


class CheckpointError(TicketlabError):
    """A checkpoint or weights file that is corrupt or does not match the run."""


class RunLockedError(TicketlabError):
    """Another process is running the same experiment."""


class PathError(TicketlabError):
    """A file or folder the user named that is missing, of the wrong kind (a file for a
    folder, or the reverse), outside where it must be, or that cannot be read or written."""


class DiskFullError(TicketlabError):
    """A write that failed for want of space (ENOSPC, a quota, SQLite's "disk is full")."""


class DisconnectedMaskError(TicketlabError):
    """A mask leaves no path of kept weights from the input to the output."""
