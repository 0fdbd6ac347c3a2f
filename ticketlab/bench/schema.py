"""The bench document's schema (`bench.json`, documented in docs/leaderboard.md), checked
when a document is read back: a results file from another machine is merged only when it
is one ticketlab can read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.errors import TicketlabError

SCHEMA = "ticketlab-bench"
VERSION = 1
_TOP = {"schema": str, "version": int, "suites": list, "provenance": list, "records": list, "published": list}
_RECORD = {"suite": str, "setting": str, "dataset": str, "model": str, "method": str, "seed": int,
           "target_density": float, "density": float, "test_accuracy": float, "learned": bool, "steps": int,
           "seconds": float, "device": str, "run_id": str, "unit": str, "provenance": str}
_PUBLISHED = {"setting": str, "method": str, "density": float, "test_accuracy": float, "source": str}
_SUITE = {"name": str, "description": str, "digest": str}
_PROVENANCE = {"id": str, "suite": str, "ticketlab": str, "commit": str, "torch": str, "python": str,
               "device": str, "host": str, "created": str}


class BenchFileError(TicketlabError):
    """A results file that is missing, unreadable or not in the bench schema."""


def read_bench(path: str | Path) -> dict:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise BenchFileError(f"No results file at {path}: give the bench.json a `ticketlab bench` run wrote "
                             "(beside its index.html).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BenchFileError(f"{path} is not a readable JSON results file ({err}).") from None
    return check_bench(doc, str(path))


def check_bench(doc: Any, where: str) -> dict:
    """`doc` itself when it is a bench document of this version; else a BenchFileError."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BenchFileError(f"{where} is not a ticketlab bench results file (schema {found!r}; expected "
                             f"{SCHEMA!r}).")
    if doc.get("version") != VERSION:
        raise BenchFileError(f"{where} has bench schema version {doc.get('version')!r}; this ticketlab reads "
                             f"version {VERSION}. Rebuild it with `ticketlab bench` from its runs, or read it with "
                             "the ticketlab that wrote it.")
    _fields(doc, _TOP, where)
    for name, items, fields in (("suites", doc["suites"], _SUITE), ("provenance", doc["provenance"], _PROVENANCE),
                                ("records", doc["records"], _RECORD), ("published", doc["published"], _PUBLISHED)):
        for index, item in enumerate(items):
            _fields(item, fields, f"{where}: {name}[{index}]")
    return doc


def _fields(item: Any, fields: dict[str, type], where: str) -> None:
    if not isinstance(item, dict):
        raise BenchFileError(f"{where} must be a mapping, got {type(item).__name__}.")
    missing = [k for k in fields if k not in item]
    if missing:
        raise BenchFileError(f"{where} lacks {', '.join(missing)} (bench schema version {VERSION}).")
    for key, kind in fields.items():
        value = item[key]
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if kind is float else \
            (isinstance(value, int) and not isinstance(value, bool)) if kind is int else isinstance(value, kind)
        if not ok:
            raise BenchFileError(f"{where}: {key} must be {kind.__name__}, got {value!r}.")
