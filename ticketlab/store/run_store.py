"""The root of all run directories and its index."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.atomic import make_dir
from ..core.errors import TicketlabError
from ..specs import Spec, spec_from_dict
from ..specs.base import version_note
from .index import RunIndex
from .run_dir import RunDir

DEFAULT_RUNS_DIR = "runs"


def default_runs_dir() -> Path:
    return Path(os.environ.get("TICKETLAB_RUNS") or DEFAULT_RUNS_DIR)


class RunStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_runs_dir()
        make_dir(self.root)
        self._index: RunIndex | None = None

    @property
    def index(self) -> RunIndex:
        # Opened on first use: a sweep's worker reads and writes run directories but never
        # the index, which only the driver writes.
        if self._index is None:
            self._index = RunIndex(self.root / "index.sqlite")
        return self._index

    def run_dir(self, spec: Spec) -> RunDir:
        return RunDir(self.root / spec.run_id, spec)

    def record(self, run: RunDir, metrics: dict | None = None) -> None:
        self.index.record(run.run_id, run.kind, run.status(), run.spec_dict(), str(run.path), metrics)

    def open(self, run_id: str) -> RunDir:
        """The run whose id (or unique id prefix, or directory path) is given."""
        path = Path(run_id)
        if path.is_absolute() and not (path / "spec.json").exists():
            raise TicketlabError(f"{path} is not a run directory (it holds no spec.json). Give a run's id, an id "
                                 "prefix or its directory; list runs with `ticketlab runs`.")
        if not (path.is_dir() and (path / "spec.json").exists()):
            matches = sorted(p for p in self.root.glob(f"{run_id}*") if (p / "spec.json").exists())
            if not matches:
                matches = sorted(p for p in self.root.glob(f"*-{run_id}*") if (p / "spec.json").exists())
            if len(matches) != 1:
                what = "No run" if not matches else f"{len(matches)} runs"
                raise TicketlabError(f"{what} in {self.root} match '{run_id}'. "
                                     "List runs with `ticketlab runs` and give a longer id.")
            path = matches[0]
        stored = _stored_spec(path)
        # No version in a stored spec means version 1, where a config file's means the current one.
        note = version_note(stored)
        if note is None:
            try:
                return RunDir(path, spec_from_dict(stored))
            except TicketlabError as err:  # a field removed or renamed since, a kind no longer registered
                note = f"its stored spec makes no spec now ({err})"
        return RunDir.unreadable(path, stored, note)

    def sync(self) -> None:
        """Bring the index up to date with the run directories on disk."""
        for path in sorted(self.root.iterdir()):
            if not (path / "spec.json").exists():
                continue
            try:
                run = self.open(str(path))
            except TicketlabError:
                continue
            known = self.index.get(run.run_id)
            status = run.status()
            if known is not None and known["status"] == "failed" and status == "interrupted":
                continue  # a sweep gave up on it after its retries: keep the driver's verdict
            if known is None or known["status"] != status:
                metrics = run.result().get("metrics") if run.finished else None
                self.record(run, metrics)


def _stored_spec(path: Path) -> dict:
    try:
        stored = json.loads((path / "spec.json").read_text())
    except (OSError, ValueError) as err:
        raise TicketlabError(f"Cannot read {path / 'spec.json'} ({err}); without it {path} is no run ticketlab "
                             "can open: move the directory away.") from None
    if not isinstance(stored, dict):
        raise TicketlabError(f"{path / 'spec.json'} holds {type(stored).__name__}, not a spec's settings; "
                             f"{path} is no run ticketlab can open: move the directory away.")
    return stored
