"""One experiment's directory: `runs/<kind>-<hash>/`.

A run directory is a `Unit` (checkpoint, tensors, `result.json` written last) plus its
spec (`spec.yaml` for people, `spec.json`: the canonical form that was hashed), its
`status.json` and the lock that keeps a second process out.
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
    def __init__(self, path: str | os.PathLike, spec: Spec):
        super().__init__(path)
        self.spec = spec
        self.lock = RunLock(self.path / ".lock")

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
