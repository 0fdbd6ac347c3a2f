"""The root of all run directories and its index."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..core.atomic import make_dir
from ..core.errors import PathError, TicketlabError
from ..specs import Spec, spec_from_dict
from ..specs.base import version_note
from .index import RunIndex
from .run_dir import RunDir, read_stored_spec

DEFAULT_RUNS_DIR = "runs"


def default_runs_dir() -> Path:
    return Path(os.environ.get("TICKETLAB_RUNS") or DEFAULT_RUNS_DIR)


class RunStore:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else default_runs_dir()
        make_dir(self.root)
        self._index: RunIndex | None = None
        # A `folder:` dataset is decoded once and cached beside the runs that read it.
        from ..data.folder_cache import use_cache_dir
        use_cache_dir(self.root / "datasets")

    @property
    def index(self) -> RunIndex:
        # Opened on first use: a sweep's worker reads and writes run directories but never
        # the index, which only the driver writes.
        if self._index is None:
            self._index = RunIndex(self.root / "index.sqlite")
            if self._index.rebuilt:  # a damaged index was moved aside: fill the new one from the folders
                self.sync()
        return self._index

    def run_dir(self, spec: Spec) -> RunDir:
        return RunDir(self.root / spec.run_id, spec)

    def record(self, run: RunDir, metrics: dict | None = None) -> None:
        self.index.record(run.run_id, run.kind, run.status(), run.spec_dict(), str(run.path), metrics)

    def open(self, run_id: str) -> RunDir:
        """The run whose id (or unique id prefix, or directory path) is given. A path must name
        a run directory of this store, i.e. one directly in its root: a reference may come from
        a script or another person, and `ticketlab show ../..` (or an absolute path elsewhere)
        must not make ticketlab read, and then write, some other folder as if it were a run."""
        path = self._run_at(run_id) if _is_path(run_id) else self._run_by_id(run_id)
        stored = read_stored_spec(path)
        # No version in a stored spec means version 1, where a config file's means the current one.
        note = version_note(stored)
        if note is None:
            try:
                return RunDir(path, spec_from_dict(stored))
            except TicketlabError as err:  # a field removed or renamed since, a kind no longer registered
                note = f"its stored spec makes no spec now ({err})"
        return RunDir.unreadable(path, stored, note)

    def _run_by_id(self, run_id: str) -> Path:
        """The one run directory whose name starts with `run_id`, else whose hash does."""
        if not run_id:
            raise TicketlabError(f"The run reference is empty: give a run's id, an id prefix or its directory in "
                                 f"{self.root}; list runs with `ticketlab runs`.")
        # Plain name matching, not a glob: a reference's '*' or '[' match only themselves.
        runs = [p for p in sorted(self.root.iterdir()) if (p / "spec.json").exists()]
        matches = [p for p in runs if p.name.startswith(run_id)] or [p for p in runs if f"-{run_id}" in p.name]
        if len(matches) != 1:
            what = "No run" if not matches else f"{len(matches)} runs"
            raise TicketlabError(f"{what} in {self.root} match '{run_id}'. "
                                 "List runs with `ticketlab runs` and give a longer id.")
        return matches[0]

    def _run_at(self, reference: str) -> Path:
        """The run directory a path names, which must be a folder directly in the root."""
        given = Path(os.path.abspath(reference))  # '..' taken away by the text, as the shell shows it
        root = self.root.resolve()
        where = None
        if given.resolve() == root:
            where = "it is the runs folder itself"
        elif given.resolve().is_relative_to(root) and given.parent.resolve() != root:
            where = "it lies below a run directory, not directly in the runs folder"
        elif given.parent.resolve() != root:
            where = f"it is {given}, outside the runs folder"
        if where is not None:
            raise PathError(f"{reference} is not a run directory of {root}: {where}. Give a run's id, an id "
                            f"prefix or the path of a run directory directly in {root} (pass --runs-dir for "
                            "another runs folder); list runs with `ticketlab runs`.")
        path = self.root / given.name
        if not (path / "spec.json").exists():
            raise PathError(f"{reference} is not a run directory (it holds no spec.json). Give a run's id, an id "
                            "prefix or its directory; list runs with `ticketlab runs`.")
        return path

    def sync(self) -> None:
        """Bring the index up to date with the run directories on disk."""
        for path in sorted(self.root.iterdir()):
            if not (path / "spec.json").exists():
                continue
            try:
                run = self.open(str(path))
            except TicketlabError as err:  # not listed, but not silently: say why
                print(f"ticketlab: {path.name} is left out of the index: {err}", file=sys.stderr)
                continue
            known = self.index.get(run.run_id)
            status = run.status()
            if known is not None and known["status"] == "failed" and status == "interrupted":
                continue  # a sweep gave up on it after its retries: keep the driver's verdict
            if known is None or known["status"] != status:
                metrics = run.result().get("metrics") if run.finished else None
                self.record(run, metrics)


def _is_path(reference: str) -> bool:
    """Whether a run reference is a path (to check against the root) rather than an id."""
    seps = [os.sep] + ([os.altsep] if os.altsep else [])
    return reference in (".", "..") or any(sep in reference for sep in seps) or Path(reference).is_absolute()
