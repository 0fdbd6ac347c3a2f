"""DDP under torchrun (2 gloo processes on CPU): the same weights and masks as one process
with the same global batch and data order, files written once (by rank 0), resume after
the whole job is killed, and a clear refusal of a batch the ranks cannot share."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ticketlab
from ticketlab.cli.main import main as cli_main
from ticketlab.methods.context import RunContext
from ticketlab.core.errors import SpecError
from ticketlab.methods.units import prepare
from ticketlab.train import ddp as distributed
from ticketlab.store import RunIndex
from ticketlab.train import Trainer

# The CLI spelling of conftest's `tiny_spec` (same run id, checked below).
TINY = ["--model", "mlp_32", "--dataset", "synthetic", "--set", "batch_size=32", "--set", "lr=0.05",
        "--set", "momentum=0.9", "--device", "cpu"]


def torchrun_command(runs_dir: Path, *args: str, nproc: int = 2) -> list[str]:
    # --standalone: a rendezvous on a free local port, so parallel test runs never collide.
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
            "-m", "ticketlab", *args, "--runs-dir", str(runs_dir)]


def torchrun_env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}  # also silences torchrun's banner about it


def torchrun(runs_dir: Path, *args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun_command(runs_dir, *args, nproc=nproc), capture_output=True, text=True,
                          timeout=180, env=torchrun_env())


def files(root: Path) -> set[str]:
    """Every file and folder under `root`, relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_close_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a)), load_file(str(b))
    assert wa.keys() == wb.keys()  # plain keys: no `module.` prefix from the DDP wrapper
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], atol=1e-5, rtol=0, msg=name)


def test_ddp_train_equals_single_process(tmp_path, tiny_spec):
    single = ticketlab.run(tiny_spec, runs_dir=tmp_path / "single", device="cpu")
    done = torchrun(tmp_path / "ddp", "train", *TINY, "--epochs", "6", "--set", "eval_every=2ep", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, "rank 1 prints nothing to stdout"
    doc = json.loads(lines[0])
    assert doc["run_id"] == single.run_id and doc["status"] == "finished"

    ddp_dir, single_dir = Path(doc["run_dir"]), Path(single.run_dir)
    assert_close_weights(ddp_dir / "model.safetensors", single_dir / "model.safetensors")
    assert files(tmp_path / "ddp") == files(tmp_path / "single")
    ddp_history = json.loads((ddp_dir / "history.json").read_text())
    single_history = json.loads((single_dir / "history.json").read_text())
    assert [r["step"] for r in ddp_history] == [r["step"] for r in single_history]
    for d, s in zip(ddp_history, single_history):  # the running loss is the global batch's mean
        assert d["train_loss"] == pytest.approx(s["train_loss"], rel=1e-4)
        assert d["test"]["accuracy"] == s["test"]["accuracy"]


def test_ddp_with_clipping_smoothing_and_decay_groups_equals_single_process(tmp_path, tiny_spec):
    # Clipping acts on the gradients the ranks have averaged already, so each rank clips alike;
    # the smoothed loss is summed over each rank's slice like the plain one.
    settings = {"clip_grad": 0.5, "label_smoothing": 0.1, "decay_on": "prunable", "weight_decay": 0.01,
                "schedule": "warmup_cosine", "warmup": "5it"}
    spec = tiny_spec.replace(**settings)
    single = ticketlab.run(spec, runs_dir=tmp_path / "single", device="cpu")
    sets = [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    done = torchrun(tmp_path / "ddp", "train", *TINY, *sets, "--epochs", "6", "--set", "eval_every=2ep", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert doc["run_id"] == single.run_id
    assert_close_weights(Path(doc["run_dir"]) / "model.safetensors", Path(single.run_dir) / "model.safetensors")
    ddp_history = json.loads((Path(doc["run_dir"]) / "history.json").read_text())
    single_history = json.loads((Path(single.run_dir) / "history.json").read_text())
    for d, s in zip(ddp_history, single_history):
        assert d["train_loss"] == pytest.approx(s["train_loss"], rel=1e-4)


def test_ddp_imp_equals_single_process(tmp_path, capsys):
    imp = ["imp", *TINY, "--epochs", "2", "--levels", "2", "--rewind", "1ep", "--controls", "random",
           "--control-levels", "2", "--quiet", "--json"]
    assert cli_main([*imp, "--runs-dir", str(tmp_path / "single")]) == 0
    single = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    done = torchrun(tmp_path / "ddp", *imp)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert doc["run_id"] == single["run_id"]

    ddp_dir, single_dir = Path(doc["run_dir"]), Path(single["run_dir"])
    # One set of files, the same as one process writes: nothing extra from rank 1.
    assert files(tmp_path / "ddp") == files(tmp_path / "single")
    assert not list((tmp_path / "ddp").rglob("*.tmp"))
    for unit in ("level_00", "level_01", "level_02", "level_02/random"):
        ddp_mask, single_mask = load_file(str(ddp_dir / unit / "mask.safetensors")), \
            load_file(str(single_dir / unit / "mask.safetensors"))
        assert all(torch.equal(ddp_mask[n], single_mask[n]) for n in single_mask), unit
        assert_close_weights(ddp_dir / unit / "model.safetensors", single_dir / unit / "model.safetensors")
    row = RunIndex(tmp_path / "ddp" / "index.sqlite").get(doc["run_id"])
    assert row is not None and row["status"] == "finished"


def test_batch_not_divisible_by_ranks_is_refused(tiny_spec, monkeypatch):
    with pytest.raises(SpecError, match="cannot be split evenly over 2 processes"):
        distributed.check_batch_size(33, ranks=2)
    distributed.check_batch_size(32, ranks=2)
    distributed.check_batch_size(33, ranks=1)
    # What a rank of a 2-process job does before its first collective (a torchrun launch
    # would only add its start-up time: the CLI prints the message like any other error).
    spec = tiny_spec.replace(batch_size=33)
    data, model = prepare(spec, RunContext(device=torch.device("cpu")))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(distributed, "active", lambda: True)
    with pytest.raises(SpecError, match="batch size 33 cannot be split evenly over 2 processes"):
        Trainer(spec, model, data, torch.device("cpu"))


def test_single_process_joins_no_job(tmp_path, tiny_spec):
    ticketlab.run(tiny_spec.replace(duration="1ep"), runs_dir=tmp_path, device="cpu")
    assert not distributed.active() and distributed.is_writer()


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def kill_job(proc: subprocess.Popen) -> None:
    """SIGKILL the workers (torchrun starts each in its own session), then torchrun."""
    for pid in children(proc.pid):
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait()


def test_killed_ddp_run_resumes(tmp_path, tiny_spec):
    runs = tmp_path / "ddp"
    args = ["train", *TINY, "--steps", "1000", "--checkpoint-every", "20it", "--set", "eval_every=200it"]
    proc = subprocess.Popen(torchrun_command(runs, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=torchrun_env())
    try:
        deadline, checkpoint = time.monotonic() + 120, None
        while checkpoint is None and time.monotonic() < deadline and proc.poll() is None:
            checkpoint = next(runs.glob("*/checkpoint.pt"), None)
            time.sleep(0.01)
        assert checkpoint is not None, "no checkpoint was written before the job ended"
        time.sleep(0.1)  # train past the checkpoint, so some work is really lost
    finally:
        kill_job(proc)
    assert not (checkpoint.parent / "result.json").exists(), "the job finished before it could be killed"

    resumed = torchrun(runs, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("resuming from step") == 1, "rank 0 alone reports"
    step = int(resumed.stderr.split("resuming from step ")[1].split("/")[0])
    assert 0 < step < 1000 and step % 20 == 0
    assert not list(runs.rglob("*.tmp"))

    single = ticketlab.run(tiny_spec.replace(duration="1000it", eval_every="200it"), runs_dir=tmp_path / "single",
                           device="cpu", checkpoint_every="20it")
    assert single.run_id == checkpoint.parent.name
    assert_close_weights(checkpoint.parent / "model.safetensors", Path(single.run_dir) / "model.safetensors")
