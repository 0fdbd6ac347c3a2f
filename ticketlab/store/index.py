"""The embedded SQLite index of runs (`runs/index.sqlite`).

The run directories are the truth; the index is a fast, queryable summary of them. It is
written by the process that drives experiments and can be rebuilt from the directories
at any time (`sync`), so a run finished by another worker appears on the next look.
In a multi-process (DDP) job only rank 0 writes it; the other ranks' records are no-ops.

Each row carries the sha256 of its fields, since SQLite checks its pages but not what
they hold. An index found damaged when it is opened (not a database, failing SQLite's
quick check, or a row that does not match its digest) is moved aside as
`index.sqlite.corrupt-<time>` and started anew (`rebuilt`),
which the store then fills from the run folders, saying so on stderr. A full disk or a
database held too long by another process is said as a `TicketlabError`, never as
SQLite's own exception.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..core import faults
from ..core.atomic import free_space, is_disk_full, move_aside
from ..core.errors import DiskFullError, TicketlabError
from ..core.ranks import is_writer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    metrics TEXT,
    run_dir TEXT NOT NULL,
    updated REAL NOT NULL,
    digest TEXT
)"""
_COLUMNS = ("run_id", "kind", "status", "spec", "metrics", "run_dir", "updated")
_DAMAGED_WORDS = ("file is not a database", "malformed", "corrupt")
# SQLite's companions of a database file, which belong to it and move with it.
_COMPANIONS = ("-journal", "-wal", "-shm")


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the index at `path` (the fault tests wrap it)."""
    db = sqlite3.connect(path, timeout=30)
    db.row_factory = sqlite3.Row
    return db


class RunIndex:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rebuilt = False  # True when a damaged index was moved aside and this one is new
        if not is_writer():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._damage() is not None:
            self._replace_damaged()
        with self._session() as db:
            db.execute(_SCHEMA)
            if "digest" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
                db.execute("ALTER TABLE runs ADD COLUMN digest TEXT")  # an index written before row digests

    def record(self, run_id: str, kind: str, status: str, spec: dict, run_dir: str,
               metrics: dict | None = None) -> None:
        if not is_writer():
            return
        values = (run_id, kind, status, json.dumps(spec, sort_keys=True),
                  json.dumps(metrics, sort_keys=True) if metrics is not None else None, run_dir, time.time())
        with self._session(writing=True) as db:
            db.execute(
                f"INSERT INTO runs ({', '.join(_COLUMNS)}, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) "
                "DO UPDATE SET status=excluded.status, spec=excluded.spec, metrics=excluded.metrics, "
                "run_dir=excluded.run_dir, updated=excluded.updated, digest=excluded.digest",
                (*values, _row_digest(values)))

    def rows(self, kind: str | None = None, status: str | None = None) -> list[dict]:
        query, args = "SELECT * FROM runs WHERE 1=1", []
        if kind:
            query, args = query + " AND kind = ?", args + [kind]
        if status:
            query, args = query + " AND status = ?", args + [status]
        with self._session() as db:
            rows = db.execute(query + " ORDER BY updated", args).fetchall()
        return [self._decoded(r) for r in rows]

    def get(self, run_id: str) -> dict | None:
        with self._session() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return self._decoded(row) if row else None

    def _decoded(self, row: sqlite3.Row) -> dict:
        try:
            return _decode(row)
        except _DamagedRow as err:
            raise TicketlabError(f"The index {self.path} is damaged ({err}). Run `ticketlab runs`: it moves the "
                                 "damaged file aside and rebuilds the index from the run folders.") from None

    # -- sessions, and what goes wrong in them --------------------------------------------
    @contextlib.contextmanager
    def _session(self, writing: bool = False) -> Iterator[sqlite3.Connection]:
        """One connection, committed and closed; SQLite's errors said for people."""
        try:
            db = connect(self.path)
            try:
                if writing:
                    _fault_point("before", self.path)
                yield db
                db.commit()
            finally:
                db.close()
        except sqlite3.Error as err:
            raise self._explained(err) from None
        if writing:
            _fault_point("after", self.path)

    def _explained(self, err: sqlite3.Error) -> TicketlabError:
        text = str(err)
        if is_disk_full(err):
            return _index_full(self.path, err)
        if "locked" in text or "busy" in text:
            return TicketlabError(f"The index {self.path} stayed locked by another process for 30 s ({text}). The "
                                  "run folders are complete; run the same command again, or `ticketlab runs` "
                                  "later, to bring the index up to date.")
        if any(words in text.lower() for words in _DAMAGED_WORDS):
            return TicketlabError(f"The index {self.path} is damaged ({text}). Run `ticketlab runs`: it moves the "
                                  "damaged file aside and rebuilds the index from the run folders.")
        return TicketlabError(f"Cannot use the index {self.path} ({type(err).__name__}: {text}). Check that its "
                              "folder is writable; the index can be deleted at any time, and `ticketlab runs` "
                              "rebuilds it from the run folders.")

    # -- damage on opening --------------------------------------------------------------
    def _replace_damaged(self) -> None:
        """Move the damaged index aside and start a new one, under a lock of its own and
        after a second look: two processes that found one damaged index move it aside
        once, not the new one as well."""
        with open(self.path.with_name(f".{self.path.name}.repair.lock"), "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                problem = self._damage()
                if problem is None:  # another process has replaced it meanwhile
                    return
                moved = self._move_aside()
                with self._session() as db:
                    db.execute(_SCHEMA)
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)
        self.rebuilt = True
        print(f"ticketlab: the index {self.path} was damaged ({problem}); moved it aside to {moved.name} and "
              "rebuilding it from the run folders.", file=sys.stderr)

    def _damage(self) -> str | None:
        """What is wrong with the index file, or None when it is sound (or not there yet)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        try:
            with contextlib.closing(connect(self.path)) as db:
                found = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
                if found != ["ok"]:
                    return "; ".join(map(str, found))[:200]
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                for row in db.execute("SELECT * FROM runs").fetchall() if "runs" in tables else []:
                    _decode(row)  # SQLite checks its pages, not what they hold: each row has its digest
        except _DamagedRow as err:
            return str(err)
        except sqlite3.DatabaseError as err:
            if not any(words in str(err).lower() for words in _DAMAGED_WORDS):
                raise self._explained(err) from None
            return str(err)
        return None

    def _move_aside(self) -> Path:
        moved = move_aside(self.path)
        for suffix in _COMPANIONS:  # a stale journal would be played into the new database
            companion = self.path.with_name(self.path.name + suffix)
            if companion.exists():
                companion.rename(moved.with_name(moved.name + suffix))
        return moved


def _fault_point(when: str, path: Path) -> None:
    """The fault tests' hook; an injected full disk comes as SQLite's own error does."""
    try:
        faults.at_write("index", when, str(path))
    except OSError as err:
        raise sqlite3.OperationalError("database or disk is full") from err


def _index_full(path: Path, err: sqlite3.Error) -> TicketlabError:
    return DiskFullError(
        f"Disk full: could not update the index {path} ({err}); {free_space(path)} free on its disk. The index "
        "is left as it was (SQLite rolled the change back) and the run folders hold every file written. Free "
        "some space, then run the same command again (what finished is reused, the rest resumes) and "
        "`ticketlab runs`, which brings the index up to date from the run folders.")


class _DamagedRow(Exception):
    """A row whose fields do not match its digest, or do not decode."""


def _row_digest(values) -> str:
    return hashlib.sha256(json.dumps(list(values)).encode()).hexdigest()


def _decode(row: sqlite3.Row) -> dict:
    out = dict(row)
    digest = out.pop("digest", None)
    values = tuple(out.get(c) for c in _COLUMNS)
    if digest is not None and digest != _row_digest(values):  # rows written before digests have none
        raise _DamagedRow(f"the row of {out.get('run_id')!r} does not match its digest")
    try:
        out["spec"] = json.loads(out["spec"])
        out["metrics"] = json.loads(out["metrics"]) if out["metrics"] else None
    except (TypeError, ValueError) as err:
        raise _DamagedRow(f"the row of {out.get('run_id')!r} does not decode ({err})") from None
    return out
