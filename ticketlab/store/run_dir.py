"""One experiment's directory: `runs/<kind>-<hash>/`.

A run directory is a `Unit` (checkpoint, tensors, `result.json` written last) plus its
spec (`spec.yaml` for people, `spec.json`: the canonical form that was hashed, with its
kind's version when above 1), its `status.json` and the lock that keeps a second process out.

A run written under an older version of its kind (or whose spec has lost a field since)
has no live spec: it is opened with `RunDir.unreadable`, shows what it stored with a
note, and refuses `spec`, saying why.
"""
from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

import yaml

from ..core.atomic import make_dir, remove, write_json, write_text
from ..core.errors import SpecError
from ..specs import Spec
from .lock import RunLock
from .unit import Unit


class RunDir(Unit):
    def __init__(self, path: str | os.PathLike, spec: Spec | None):
        super().__init__(path)
        self._spec = spec                # None only through `unreadable`
        self.stored: dict | None = None  # spec.json, for a run with no live spec
        self.note: str | None = None     # why it has none
        self.lock = RunLock(self.path / ".lock")

    @classmethod
    def unreadable(cls, path: str | os.PathLike, stored: dict, note: str) -> "RunDir":
        """A run whose stored spec (`stored`) makes no spec of the current version of its kind;
        `note` says why (e.g. "written under version 1 of the train kind, the current being 2")."""
        run = cls(path, None)
        run.stored, run.note = stored, note
        return run

    @property
    def spec(self) -> Spec:
        if self._spec is None:
            raise SpecError(f"Run {self.run_id}: {self.note}. Without a spec of the current version this command "
                            f"cannot use it; `ticketlab show {self.run_id}` displays what it stored and its result, "
                            "and running its spec again makes a new run (with a new run id).")
        return self._spec

    @property
    def kind(self) -> str:
        return self._spec.kind if self._spec is not None else str(self.stored.get("kind"))

    def spec_dict(self) -> dict:
        """The spec as shown and indexed: every field of the live spec. For a run with none,
        spec.yaml as written (every field, at the defaults of the version it was written
        under), or spec.json where spec.yaml is gone or unreadable."""
        if self._spec is not None:
            return self._spec.to_dict()
        try:
            written = yaml.safe_load((self.path / "spec.yaml").read_text())
        except (OSError, yaml.YAMLError):
            written = None
        return written if isinstance(written, dict) and written.get("kind") == self.kind else self.stored

    @property
    def run_id(self) -> str:
        return self.path.name

    def create(self) -> None:
        """Make the directory and record the spec (checking a hash collision never mixes runs)."""
        make_dir(self.path)
        canonical = {"kind": self.spec.kind, **self.spec.canonical()}
        existing = self.path / "spec.json"
        if existing.exists():
            try:
                stored = json.loads(existing.read_text())
            except json.JSONDecodeError:
                stored = None
            if stored is not None and stored != canonical:
                raise SpecError(f"{self.path} holds a different spec than the one asked for; "
                                "move the directory away (it is not this experiment's).")
        write_json(existing, canonical)
        write_text(self.path / "spec.yaml", yaml.safe_dump(self.spec.to_dict(), sort_keys=False))

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a process killed mid-write (call under the lock)."""
        remove(*self.path.rglob(".*.tmp"))

    # -- status -------------------------------------------------------------------------
    def status_record(self) -> dict:
        """status.json as written (status, pid, host, time, device, precision, ...); {} if none."""
        try:
            record = json.loads((self.path / "status.json").read_text())
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def status(self) -> str:
        if self.finished:
            return "finished"
        status = self.status_record().get("status")
        if status is None:
            return "new"
        # A process killed outright (SIGKILL, a lost node) leaves "running" behind; the
        # lock, which the kernel dropped with it, tells the truth.
        if status == "running" and not self.lock.is_held():
            return "interrupted"
        return status

    def set_status(self, status: str, **extra: Any) -> None:
        write_json(self.path / "status.json", {"status": status, "pid": os.getpid(),
                                               "host": socket.gethostname(), "time": time.time(), **extra})

    def finish(self, result: dict, **extra: Any) -> None:
        super().finish(result)
        self.set_status("finished", **extra)
