"""Processes sharing one runs folder: a second process on a running spec waits for the
first and reuses its result; a sweep and a manual run, and two sweeps, on one folder all
finish, each run trained once, with the index agreeing with the folders."""
from __future__ import annotations

import time

import yaml

from fault_harness import TRAIN, run_args, write_spec
from ticketlab.store import RunStore

LONG = TRAIN.replace(duration="40ep", eval_every="20ep")  # long enough for a second process to find it running
SWEEP = {"base": {"kind": "train", **TRAIN.replace(duration="10ep", eval_every="5ep").to_dict()},
         "axes": {"seed": [0, 1]}}


def index_agrees(runs) -> None:
    """The index as the runs left it (no sync first): every run finished, with its metrics."""
    store = RunStore(runs)
    rows = {row["run_id"]: row for row in store.index.rows()}
    folders = {p.name for p in runs.iterdir() if (p / "spec.json").exists()}
    assert set(rows) == folders
    for run_id, row in rows.items():
        run = store.open(run_id)
        assert row["status"] == run.status() == "finished" and row["metrics"] == run.result()["metrics"], run_id


def wait_until_running(run_dir, pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (run_dir / ".lock").exists() and f"pid {pid} " in (run_dir / ".lock").read_text():
            return
        time.sleep(0.01)
    raise AssertionError(f"{run_dir} was never locked by {pid}")


def test_a_second_process_waits_for_the_first_and_reuses_its_result(forker, tmp_path):
    spec_file, runs = write_spec(tmp_path, LONG), tmp_path / "runs"
    logs = tmp_path / "first.log", tmp_path / "second.log"
    first = forker.start(run_args(spec_file, runs), logs[0])
    wait_until_running(runs / LONG.run_id, first)
    second = forker.start(run_args(spec_file, runs), logs[1])
    done = forker.wait(first, logs[0]), forker.wait(second, logs[1])
    assert [d.code for d in done] == [0, 0], done
    assert f"Waiting for pid {first} " in done[1].output and "reused (already finished)" in done[1].output
    assert ": step 0/" not in done[1].output, "the second process trained nothing"
    index_agrees(runs)


def sweep_file(folder):
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP))
    return path


def sweep_args(path, runs) -> list[str]:
    return ["sweep", str(path), "--backend", "serial", "--runs-dir", str(runs), "--checkpoint-every", "3it"]


def trained_once(runs, also: dict[str, str] | None = None) -> None:
    """Each run's training started exactly once, whoever ran it: its sweep attempt logs,
    and `also` (run id -> the output of a manual run of it), show one start between them."""
    for run in (p for p in runs.iterdir() if (p / "spec.json").exists()):
        logs = "".join(log.read_text() for log in run.rglob("attempt-*.log")) + (also or {}).get(run.name, "")
        assert logs.count(": step 0/") == 1, run.name


def test_a_sweep_and_a_manual_run_on_one_folder_both_finish(forker, tmp_path):
    runs = tmp_path / "runs"
    from ticketlab.sweep.grid import sweep_from_dict

    spec = sweep_from_dict(SWEEP).specs()[1]
    manual_spec = write_spec(tmp_path, spec)
    logs = tmp_path / "sweep.log", tmp_path / "manual.log"
    sweep = forker.start(sweep_args(sweep_file(tmp_path), runs), logs[0])
    manual = forker.start(run_args(manual_spec, runs), logs[1])
    done = forker.wait(sweep, logs[0]), forker.wait(manual, logs[1])
    assert [d.code for d in done] == [0, 0] and not any("Traceback" in d.output for d in done), done
    assert len([p for p in runs.iterdir() if (p / "spec.json").exists()]) == 2
    trained_once(runs, {spec.run_id: done[1].output})
    index_agrees(runs)


def test_two_sweeps_on_one_folder_both_finish(forker, tmp_path):
    runs, path = tmp_path / "runs", sweep_file(tmp_path)
    logs = tmp_path / "a.log", tmp_path / "b.log"
    pids = [forker.start(sweep_args(path, runs), log) for log in logs]
    done = [forker.wait(pid, log) for pid, log in zip(pids, logs)]
    assert [d.code for d in done] == [0, 0] and not any("Traceback" in d.output for d in done), done
    trained_once(runs)
    index_agrees(runs)
