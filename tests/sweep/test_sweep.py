"""Sweeps: expansion and its refusals, and the local and Ray backends end to end (equal to
serial runs, idempotent, a killed worker retried and resumed, failures recorded)."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time

import pytest
import torch
from safetensors.torch import load_file

from ticketlab import api
from ticketlab.core.errors import SpecError, TicketlabError, UnknownNameError
from ticketlab.sweep.driver import run_sweep
from ticketlab.sweep.grid import load_sweep, sweep_from_dict
from ticketlab.store import RunStore

BASE = {"kind": "train", "model": "mlp_32", "dataset": "synthetic", "duration": "30ep", "batch_size": 32,
        "lr": 0.05, "momentum": 0.9, "eval_every": "10ep"}
FOUR = {"base": BASE, "axes": {"seed": [0, 1], "lr": [0.05, 0.1]}}


# -- the sweep file ---------------------------------------------------------------------
def test_axes_expand_as_a_product_in_file_order_and_reach_nested_specs(tmp_path):
    sweep = sweep_from_dict(FOUR)
    assert [(s.seed, s.lr) for s in sweep.specs()] == [(0, 0.05), (0, 0.1), (1, 0.05), (1, 0.1)]
    imp = sweep_from_dict({"base": {"kind": "imp", "train": BASE, "levels": 2},
                           "axes": {"train.seed": [3, 4], "prune_fraction": [0.3]}})
    assert [(s.train.seed, s.prune_fraction) for s in imp.specs()] == [(3, 0.3), (4, 0.3)]
    # a plain field of the nested spec reaches it too, and duplicates collapse to one run
    same = sweep_from_dict({"base": {"kind": "imp", "train": BASE}, "axes": {"seed": [0, 0, 1]}})
    assert [s.train.seed for s in same.specs()] == [0, 1]


def test_sweep_file_with_a_base_config_path(tmp_path):
    (tmp_path / "base.yaml").write_text(json.dumps(BASE))
    (tmp_path / "sweep.yaml").write_text("base: base.yaml\naxes:\n  seed: [0, 1, 2]\nretries: 1\n")
    sweep = load_sweep(tmp_path / "sweep.yaml")
    assert [s.seed for s in sweep.specs()] == [0, 1, 2] and sweep.retries == 1


@pytest.mark.parametrize("data, message", [
    ({"base": BASE, "axes": {"sede": [0, 1]}}, "axis 'sede' is not a field of a train spec"),
    ({"base": BASE, "axes": {"seed": []}}, "axis 'seed' is empty"),
    ({"base": BASE, "axes": {"seed": 3}}, "must be a list"),
    ({"base": BASE, "axes": {}}, "needs 'axes'"),
    ({"axes": {"seed": [0]}}, "needs 'base'"),
    ({"base": BASE, "axes": {"seed": [0]}, "retry": 2}, "unknown key(s) retry"),
    ({"base": BASE, "axes": {"seed": [0]}, "retries": -1}, "retries must be"),
    ({"base": BASE, "axes": {"lr": [0.1, "fast"]}}, "lr='fast'"),
    ({"base": {**BASE, "model": "lenet_9000"}, "axes": {"seed": [0]}}, "Unknown model"),
])
def test_bad_sweeps_are_refused_with_what_to_fix(data, message):
    with pytest.raises(TicketlabError) as err:
        sweep_from_dict(data)
    assert message in str(err.value)


def test_unknown_field_error_lists_the_valid_ones():
    with pytest.raises(SpecError, match="Valid settings: .*seed"):
        sweep_from_dict({"base": BASE, "axes": {"sede": [0]}})


def test_unreachable_ray_address_and_unknown_backend_fail_before_any_run(tmp_path):
    runs = tmp_path / "runs"
    sweep = sweep_from_dict(FOUR)
    if importlib.util.find_spec("ray"):
        with pytest.raises(TicketlabError, match="Cannot reach a Ray cluster at 127.0.0.1:1"):
            run_sweep(sweep, "ray", runs_dir=runs, address="127.0.0.1:1")
    else:
        with pytest.raises(TicketlabError, match=r"pip install 'ticketlab\[ray\]'"):
            run_sweep(sweep, "ray", runs_dir=runs, address="127.0.0.1:1")
    with pytest.raises(TicketlabError, match="each run sees only its own GPUs"):
        run_sweep(sweep, "local", runs_dir=runs, gpus_per_run=1, device="cuda:1")
    with pytest.raises(TicketlabError, match="Unknown sweep backend 'slurm'"):
        run_sweep(sweep, "slurm", runs_dir=runs)
    with pytest.raises(TicketlabError, match="--address is for the ray backend"):
        run_sweep(sweep, "local", runs_dir=runs, address="10.0.0.1:6379")
    assert not runs.exists() or not [p for p in runs.iterdir() if p.is_dir()]


# -- running ----------------------------------------------------------------------------
def _serial(specs, runs_dir):
    """The reference: each spec run in this process, one thread (as the workers use)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for spec in specs:
            api.run(spec, runs_dir=runs_dir)
        return {s.run_id: load_file(str(runs_dir / s.run_id / "model.safetensors")) for s in specs}
    finally:
        torch.set_num_threads(threads)


def _kill_after_first_checkpoint(run_dir, killed: list):
    """Watch `run_dir` and SIGKILL the worker that trains it once a checkpoint is on disk."""
    def watch():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if (run_dir / "checkpoint.pt").exists() and (run_dir / "status.json").exists():
                status = json.loads((run_dir / "status.json").read_text())
                if status.get("status") == "running" and status.get("pid") != os.getpid():
                    os.kill(status["pid"], signal.SIGKILL)
                    killed.append(status["pid"])
                    return
            time.sleep(0.005)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _check_backend(backend, tmp_path, **options):
    runs = tmp_path / "runs"
    sweep = sweep_from_dict(FOUR)
    specs = sweep.specs()
    victim = runs / specs[0].run_id
    killed: list[int] = []
    watcher = _kill_after_first_checkpoint(victim, killed)
    results = run_sweep(sweep, backend, runs_dir=runs, retries=2, checkpoint_every="2ep", poll_s=0.2, **options)
    watcher.join(timeout=1)
    assert [r.status for r in results] == ["finished"] * 4
    # the killed worker's run was retried and resumed from its checkpoint, not restarted
    assert killed, "the worker was never killed"
    assert results[0].attempts == 2 and len(results[0].errors) == 1
    retry_log = (victim / "logs" / "attempt-2.log").read_text()
    assert "resuming from step" in retry_log
    assert all(r.attempts == 1 for r in results[1:])
    # the same weights as the specs run one after another in one process
    reference = _serial(specs, tmp_path / "serial")
    for spec in specs:
        mine = load_file(str(runs / spec.run_id / "model.safetensors"))
        for name, tensor in reference[spec.run_id].items():
            torch.testing.assert_close(mine[name], tensor, rtol=0, atol=1e-6)
    # the driver recorded every run in the index
    rows = {r["run_id"]: r["status"] for r in RunStore(runs).index.rows()}
    assert rows == {s.run_id: "finished" for s in specs}
    # re-submitting trains nothing: every run is reused and no worker starts
    logs = sorted(p.name for p in runs.rglob("attempt-*.log"))
    again = run_sweep(sweep, backend, runs_dir=runs, **options)
    assert all(r.reused and r.attempts == 0 for r in again)
    assert sorted(p.name for p in runs.rglob("attempt-*.log")) == logs


def test_local_sweep_equals_serial_resumes_a_killed_worker_and_skips_finished_runs(tmp_path):
    _check_backend("local", tmp_path)


def test_ray_sweep_on_a_local_two_cpu_cluster(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_worker_niceness", "0")  # as the backend does when it starts the cluster
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        _check_backend("ray", tmp_path)
    finally:
        ray.shutdown()


def test_a_failing_run_is_retried_then_recorded_failed_without_stopping_the_others(tmp_path, monkeypatch):
    sweep = sweep_from_dict({"base": {**BASE, "duration": "2ep"}, "axes": {"seed": [0, 1, 2]}})
    bad = sweep.specs()[1].run_id
    real_run = api.run

    def flaky(spec, **kw):
        if spec.run_id == bad:
            raise RuntimeError("out of memory (simulated)")
        return real_run(spec, **kw)
    monkeypatch.setattr(api, "run", flaky)
    runs = tmp_path / "runs"
    results = run_sweep(sweep, "serial", runs_dir=runs, retries=1)
    assert [r.status for r in results] == ["finished", "failed", "finished"]
    assert results[1].attempts == 2 and "out of memory (simulated)" in results[1].errors[-1]
    rows = {r["run_id"]: r["status"] for r in RunStore(runs).index.rows()}
    assert rows[bad] == "failed" and list(rows.values()).count("finished") == 2


def test_the_driver_takes_the_workers_word_for_a_finished_run(tmp_path, monkeypatch):
    """Without a shared filesystem the driver's folder lags behind the worker's: a run
    the worker finished is finished, never retried or failed for want of a local file."""
    from ticketlab.sweep import driver

    class Remote:  # a worker on a node with its own disk
        slots = 2

        def __init__(self):
            self.done = []

        def submit(self, payload):
            self.done.append(payload["spec"])
            return len(self.done) - 1

        def wait(self, handles, timeout):
            return [(h, True, {"run_id": "x", "reused": False, "metrics": {"test_accuracy": 0.5}}) for h in handles]

        def close(self):
            pass

    remote = Remote()
    monkeypatch.setattr(driver, "make_backend", lambda *a, **k: remote)
    runs = tmp_path / "runs"
    results = run_sweep(sweep_from_dict({"base": BASE, "axes": {"seed": [0, 1]}}), "local", runs_dir=runs)
    assert [(r.status, r.attempts, r.errors) for r in results] == [("finished", 1, [])] * 2
    assert len(remote.done) == 2
    rows = RunStore(runs).index.rows()
    assert [r["status"] for r in rows] == ["finished"] * 2 and rows[0]["metrics"] == {"test_accuracy": 0.5}


def test_precision_and_compile_reach_every_run_and_bad_values_stop_the_sweep(tmp_path):
    sweep = sweep_from_dict({"base": BASE, "axes": {"seed": [0, 1]}})
    runs = tmp_path / "runs"
    with pytest.raises(UnknownNameError, match="precision"):
        run_sweep(sweep, "serial", runs_dir=runs, precision="fp8")
    with pytest.raises(UnknownNameError, match="compile mode"):
        run_sweep(sweep, "serial", runs_dir=runs, compile="fastest")
    assert not runs.exists() or not any(runs.iterdir()), "refused before any run starts"
    results = run_sweep(sweep, "serial", runs_dir=runs, precision="fp32")
    for result in results:
        status = json.loads((runs / result.spec.run_id / "status.json").read_text())
        assert status["status"] == "finished" and status["precision"] == "fp32"
