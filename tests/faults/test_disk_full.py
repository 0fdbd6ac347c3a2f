"""A full disk at a checkpoint, result, mask or index write: one clear error (disk full,
which file, the space left, what to do), nothing half-written left behind, and once space
is free the same command finishes with the files of a run that never met it.

The full disk comes from the write hook (`enospc:KIND:N`, in a run of its own), from the
file system call itself (os.fsync failing with ENOSPC, in this process), and, for the
index, from SQLite itself (a database that may not grow)."""
from __future__ import annotations

import errno
import json
import os

import pytest

from fault_harness import contents, index_matches_folders, leftovers, method_specs, run_args
from ticketlab import api
from ticketlab.core import faults
from ticketlab.core.errors import DiskFullError
from ticketlab.store import RunIndex, RunStore
from ticketlab.store import index as index_module
from ticketlab.store.checkpoint import load_checkpoint

CASES = [("imp", "enospc:checkpoint:7", "checkpoint.pt"), ("imp", "enospc:result:2", "result.json"),
         ("pai", "enospc:mask:1", "mask.safetensors"), ("train", "enospc:index:2", "index.sqlite")]


def assert_nothing_half_written(runs) -> None:
    assert not list(runs.rglob("*.tmp")), "a failed write removes its temporary file"
    for path in runs.rglob("*.pt"):
        load_checkpoint(path)  # the one before, whole
    for path in runs.rglob("*.json"):
        json.loads(path.read_text())


@pytest.mark.parametrize("method, fault, file", CASES)
def test_a_full_disk_is_one_clear_error_and_the_rerun_finishes(method, fault, file, straight, forker, tmp_path):
    spec_file, _, expected = straight(method)
    runs = tmp_path / "runs"
    full = forker.run(run_args(spec_file, runs), tmp_path / "full.log", **{faults.FAULT_ENV: fault})
    assert full.code == 2 and "Traceback" not in full.output, full
    message = full.output.split("ticketlab: error: ", 1)[1]
    what = "update the index" if file == "index.sqlite" else "write"
    assert message.startswith(f"Disk full: could not {what} {runs}/") and f"/{file} (" in message.split(";")[0]
    assert " free on its disk" in message and "Free some space" in message and "run the same command again" in message
    assert_nothing_half_written(runs)
    again = forker.run(run_args(spec_file, runs), tmp_path / "again.log")  # space is free again
    assert again.code == 0, again
    assert leftovers(runs) == [] and contents(runs) == expected
    index_matches_folders(runs)


def test_enospc_from_fsync_in_process_then_a_rerun_gives_the_same_weights(monkeypatch, tmp_path):
    spec = method_specs()["train"]
    reference = api.run(spec, runs_dir=tmp_path / "straight", checkpoint_every="3it")
    real_fsync, seen = os.fsync, []

    def fsync(fd: int) -> None:  # the third checkpoint's data does not fit
        if ".checkpoint.pt." in os.readlink(f"/proc/self/fd/{fd}"):
            seen.append(fd)
            if len(seen) == 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    runs = tmp_path / "runs"
    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(DiskFullError) as err:
        api.run(spec, runs_dir=runs, checkpoint_every="3it")
    monkeypatch.undo()
    run = RunStore(runs).open(spec.run_id)
    expected = f"Disk full: could not write {run.path / 'checkpoint.pt'} (No space left on device)"
    assert str(err.value).startswith(expected)
    assert "keeps its previous content" in str(err.value)  # the second checkpoint stays, whole
    assert load_checkpoint(run.path / "checkpoint.pt")["step"] == 6 and not list(runs.rglob("*.tmp"))
    assert run.status() == "failed" and "Disk full" in run.status_record()["error"]
    resumed = api.run(spec, runs_dir=runs, checkpoint_every="3it")
    assert resumed.metrics == {**reference.metrics, "train_seconds": resumed.metrics["train_seconds"]}
    mine, theirs = (p / spec.run_id / "model.safetensors" for p in (runs, tmp_path / "straight"))
    assert mine.read_bytes() == theirs.read_bytes()


def test_a_full_sqlite_index_is_a_clear_error_and_stays_as_it_was(monkeypatch, tmp_path):
    index = RunIndex(tmp_path / "index.sqlite")
    index.record("train-a", "train", "finished", {"seed": 0}, str(tmp_path / "train-a"))
    real_connect = index_module.connect

    def no_room(path):  # SQLite's own SQLITE_FULL: the database may not grow by a page
        db = real_connect(path)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(index_module, "connect", no_room)
    with pytest.raises(DiskFullError) as err:
        index.record("train-b", "train", "finished", {"notes": "x" * 200_000}, str(tmp_path / "train-b"))
    message = str(err.value)
    expected = f"Disk full: could not update the index {tmp_path / 'index.sqlite'} (database or disk is full)"
    assert message.startswith(expected)
    assert "free on its disk" in message and "`ticketlab runs`" in message
    monkeypatch.undo()
    assert [row["run_id"] for row in index.rows()] == ["train-a"]


def test_a_malformed_fault_is_refused():
    with pytest.raises(ValueError, match="not ACTION:KIND:N"):
        faults.parse("kill:checkpoints:1")
    with pytest.raises(ValueError, match="never after"):
        faults.parse("enospc:result:1:after")
    assert faults.parse("kill:index:2:after,enospc:mask:1") == [("kill", "index", 2, "after"),
                                                                ("enospc", "mask", 1, "before")]
