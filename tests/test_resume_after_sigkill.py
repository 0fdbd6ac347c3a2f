"""A run killed with SIGKILL mid-training resumes and ends bit-identical to an uninterrupted one."""
import os
import signal
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file

ARGS = ["train", "--model", "mlp_256_256", "--dataset", "synthetic", "--steps", "3000",
        "--checkpoint-every", "50it", "--set", "batch_size=16", "--set", "momentum=0.9", "--set", "lr=0.02"]


def ticketlab(runs_dir, *extra):
    return [sys.executable, "-m", "ticketlab", *ARGS, "--runs-dir", str(runs_dir), *extra]


def run_dir_of(runs_dir):
    (path,) = [p for p in runs_dir.iterdir() if p.is_dir()]
    return path


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    interrupted, straight = tmp_path / "interrupted", tmp_path / "straight"
    proc = subprocess.Popen(ticketlab(interrupted), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    checkpoint = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(interrupted.glob("*/checkpoint.pt"))
        if found:
            checkpoint = found[0]
            break
        time.sleep(0.01)
    assert checkpoint is not None, "no checkpoint was written before the run ended"
    time.sleep(0.3)  # let it train past the checkpoint, so some work is really lost
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_dir = run_dir_of(interrupted)
    assert not (run_dir / "result.json").exists(), "the run finished before it could be killed"
    # A write cut by SIGKILL may leave a temporary file, but never a partial checkpoint.pt.
    from ticketlab.store.checkpoint import load_checkpoint
    assert load_checkpoint(run_dir / "checkpoint.pt")["step"] % 50 == 0

    resumed = subprocess.run(ticketlab(interrupted), capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from step" in resumed.stderr
    step = int(resumed.stderr.split("resuming from step ")[1].split("/")[0])
    assert not list(run_dir.rglob("*.tmp")), "stale temporary files are cleaned when the run resumes"
    assert 0 < step < 3000 and step % 50 == 0

    subprocess.run(ticketlab(straight), check=True, capture_output=True, timeout=240)
    a = load_file(str(run_dir / "model.safetensors"))
    b = load_file(str(run_dir_of(straight) / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert (run_dir / "history.json").read_text() == (run_dir_of(straight) / "history.json").read_text()
