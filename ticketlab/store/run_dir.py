"""One experiment's directory: `runs/<kind>-<hash>/`.

A run directory is a `Unit` (checkpoint, tensors, `result.json` written last) plus its
spec (`spec.yaml` for people, `spec.json`: the canonical form that was hashed, with its
kind's version when above 1), its `status.json` and the lock that keeps a second process out.

A run written under an older version of its kind (or whose spec has lost a field since)
has no live spec: it is opened with `RunDir.unreadable`, shows what it stored with a
note, and refuses `spec`, saying why.

What a crash or a damaged disk leaves behind is mended before work resumes (`recover`,
under the lock) and, for spec.json, when the run is opened (`read_stored_spec`); the
rules are in docs/architecture.md, "Faults and recovery".
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..core.atomic import make_dir, move_aside, remove, write_json, write_text
from ..core.errors import CheckpointError, SpecError, TicketlabError
from ..specs import Spec, spec_from_dict
from .lock import RunLock
from .unit import PENDING_CHECKPOINT, Unit, read_result


def canonical_form(spec: Spec) -> dict:
    """What spec.json holds: the canonical form that was hashed, with the kind."""
    return {"kind": spec.kind, **spec.canonical()}


def read_stored_spec(path: Path) -> dict:
    """spec.json of the run directory `path`. A damaged one is written again from spec.yaml
    when that makes a spec whose id is the directory's name (so it is this run's spec,
    whatever else was damaged), with a note on stderr; else the error says what to do."""
    file = path / "spec.json"
    try:
        stored = json.loads(file.read_text())
        problem = None if isinstance(stored, dict) else f"it holds {type(stored).__name__}, not a spec's settings"
    except OSError as err:
        problem = err.strerror or str(err)
    except ValueError as err:
        problem = f"not valid JSON: {err}"
    if problem is None:
        return stored
    rebuilt = _spec_from_yaml(path)
    if rebuilt is None:
        raise TicketlabError(f"Cannot read {file} ({problem}), and {path / 'spec.yaml'} does not make the spec of "
                             f"this run (whose id is the directory's name) either, so ticketlab cannot tell which "
                             f"experiment {path} holds. Move the directory away (its files are left as they are).")
    write_json(file, rebuilt)
    print(f"ticketlab: {file} was damaged ({problem}); written again from spec.yaml, whose spec has this run's "
          "id.", file=sys.stderr)
    return rebuilt


def _spec_from_yaml(path: Path) -> dict | None:
    try:
        spec = spec_from_dict(yaml.safe_load((path / "spec.yaml").read_text()))
    except (OSError, yaml.YAMLError, TicketlabError, TypeError, AttributeError, ValueError):
        return None
    return canonical_form(spec) if spec.run_id == path.name else None


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
        canonical = canonical_form(self.spec)
        existing = self.path / "spec.json"
        if existing.exists():
            try:
                stored = json.loads(existing.read_text())
            except (OSError, ValueError):  # damaged: the spec asked for is this directory's (its hash)
                stored = None
            if stored is not None and stored != canonical:
                raise SpecError(f"{self.path} holds a different spec than the one asked for; "
                                "move the directory away (it is not this experiment's).")
        write_json(existing, canonical)
        write_text(self.path / "spec.yaml", yaml.safe_dump(self.spec.to_dict(), sort_keys=False))

    def remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a process killed mid-write (call under the lock)."""
        remove(*self.path.rglob(".*.tmp"))

    def recover(self, note: Callable[[str], None]) -> None:
        """Ready the directory for work (call under the lock): delete the temporaries of
        writes cut short and the checkpoints of finished units (a kill between the two
        steps of `finish`), and move aside, as `NAME.corrupt-<time>`, what was damaged
        after it was written, saying so through `note`:

        - a unit's checkpoint.pt: the unit trains again from its start. Training is a pure
          function of the spec, so the result is the one it would have had; only time is
          lost, where loading a damaged state would give a wrong result, and keeping an
          older checkpoint beside each one would double the disk a run takes;
        - a result.json: the unit is computed again, from the run's other files.
        """
        from .checkpoint import load_checkpoint, verified_payload

        self.remove_stale_temporaries()
        for path in sorted(self.path.rglob("result.json")):
            if read_result(path) is None:
                moved = move_aside(path)
                note(f"The result file {path} was damaged (not a whole JSON object); moved it aside to "
                     f"{moved.name}, and that unit is computed again.")
        for path in sorted(self.path.rglob(PENDING_CHECKPOINT)):  # a batch commit of a unit that finished since
            if read_result(path.parent / "result.json") is not None:
                remove(path)
        for path in sorted(self.path.rglob("checkpoint.pt")):
            if read_result(path.parent / "result.json") is not None:  # finished, killed before dropping it
                remove(path)
                continue
            try:
                if verified_payload(path) is None:  # written before checksums: try to read it whole
                    load_checkpoint(path)
            except CheckpointError:
                moved = move_aside(path)
                note(f"The checkpoint {path} was damaged (it fails its checksum or does not load); moved it "
                     f"aside to {moved.name}, and that unit trains again from its start (training is a pure function "
                     "of the spec: only time is lost).")

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
        if self.has("result.json"):  # in place but damaged: running the spec again mends it
            return "corrupt"
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
