import os
import subprocess
import sys

import pytest

from ticketlab import api
from ticketlab.core.atomic import atomic_write
from ticketlab.core.errors import RunLockedError
from ticketlab.store import RunLock, RunStore


def test_atomic_write_leaves_old_file_on_crash(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("old")

    def crash(f):
        f.write(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(path, crash)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.json"]


def test_finished_runs_are_reused_and_indexed(tiny_spec, runs_dir):
    first = api.run(tiny_spec)
    assert not first.reused and first.status == "finished"
    assert first.metrics["test_accuracy"] > 0.9
    again = api.run(tiny_spec)
    assert again.reused and again.metrics == first.metrics and again.run_dir == first.run_dir
    assert sorted(p.name for p in runs_dir.iterdir()) == ["index.sqlite", tiny_spec.run_id]
    files = sorted(p.name for p in (runs_dir / tiny_spec.run_id).iterdir())
    assert files == [".lock", "history.json", "init.safetensors", "model.safetensors", "result.json",
                     "spec.json", "spec.yaml", "status.json"]
    row = RunStore(runs_dir).index.get(tiny_spec.run_id)
    assert row["status"] == "finished" and row["metrics"]["test_accuracy"] == first.metrics["test_accuracy"]
    assert row["spec"]["model"] == "mlp_32"


def test_index_is_rebuilt_from_directories(tiny_spec, runs_dir):
    api.run(tiny_spec)
    (runs_dir / "index.sqlite").unlink()
    store = RunStore(runs_dir)
    assert store.index.rows() == []
    store.sync()
    assert [r["run_id"] for r in store.index.rows()] == [tiny_spec.run_id]


def test_open_by_prefix(tiny_spec, runs_dir):
    api.run(tiny_spec)
    store = RunStore(runs_dir)
    assert store.open(tiny_spec.hash()[:6]).spec == tiny_spec
    with pytest.raises(Exception, match="No run"):
        store.open("zzzz")


def test_lock_says_who_holds_it(tmp_path):
    path = tmp_path / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from ticketlab.store import RunLock; l = RunLock(sys.argv[1]); l.acquire();"
        "print('held', flush=True); time.sleep(30)"), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            RunLock(path).acquire(wait=False)
    finally:
        holder.kill()
        holder.wait()
    lock = RunLock(path)
    lock.acquire(wait=False)  # the kernel released the dead holder's lock
    lock.release()


def test_a_running_status_without_its_lock_reads_interrupted(tiny_spec, tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.run_dir(tiny_spec)
    run.create()
    run.set_status("running")
    # what a process killed outright leaves: "running" on disk, and no one holding the lock
    assert run.status() == "interrupted"
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                               "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
                               str(run.path / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run.status() == "running"
    finally:
        holder.kill()
        holder.wait()
    assert run.status() == "interrupted"
    # a sweep's verdict "failed" survives a sync of the index
    store.index.record(run.run_id, run.spec.kind, "failed", run.spec.to_dict(), str(run.path))
    store.sync()
    assert store.index.get(run.run_id)["status"] == "failed"
