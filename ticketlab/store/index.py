"""The embedded SQLite index of runs (`runs/index.sqlite`).

The run directories are the truth; the index is a fast, queryable summary of them. It is
written by the process that drives experiments and can be rebuilt from the directories
at any time (`sync`), so a run finished by another worker appears on the next look.
In a multi-process (DDP) job only rank 0 writes it; the other ranks' records are no-ops.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from ..core.ranks import is_writer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    spec TEXT NOT NULL,
    metrics TEXT,
    run_dir TEXT NOT NULL,
    updated REAL NOT NULL
)"""


class RunIndex:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not is_writer():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def record(self, run_id: str, kind: str, status: str, spec: dict, run_dir: str,
               metrics: dict | None = None) -> None:
        if not is_writer():
            return
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET "
                "status=excluded.status, spec=excluded.spec, metrics=excluded.metrics, "
                "run_dir=excluded.run_dir, updated=excluded.updated",
                (run_id, kind, status, json.dumps(spec, sort_keys=True),
                 json.dumps(metrics, sort_keys=True) if metrics is not None else None, run_dir, time.time()))

    def rows(self, kind: str | None = None, status: str | None = None) -> list[dict]:
        query, args = "SELECT * FROM runs WHERE 1=1", []
        if kind:
            query, args = query + " AND kind = ?", args + [kind]
        if status:
            query, args = query + " AND status = ?", args + [status]
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY updated", args).fetchall()
        return [_decode(r) for r in rows]

    def get(self, run_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _decode(row) if row else None


def _decode(row: sqlite3.Row) -> dict:
    out = dict(row)
    out["spec"] = json.loads(out["spec"])
    out["metrics"] = json.loads(out["metrics"]) if out["metrics"] else None
    return out
