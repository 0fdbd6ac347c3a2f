"""A runs folder written before the package took its layered layout is reused as it is.

`tests/fixtures/runs_before_layout/` was written by an earlier commit (its README says how).
Rerunning the same commands must find every run finished under the same run id, compute
nothing, and never import torch; `runs` and `show` read it without torch too.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "runs_before_layout"
TINY = ["--model", "mlp_16", "--dataset", "synthetic", "--steps", "8"]
COMMANDS = {
    "train-faae2692c559c3d2": ["train", *TINY],
    "imp-ba1b40e1687752a2": ["imp", *TINY, "--levels", "2", "--controls", "reinit,random"],
    "pai-7e3e22dfb8d44a6b": ["pai", *TINY, "--method", "snip", "--density", "0.3"],
    "lmc-59298ad750287a2c": ["lmc", "imp-ba1b40e1687752a2", "--level", "1", "--points", "3"],
    "dst-aabc77ed3d45575d": ["dst", *TINY, "--method", "rigl", "--density", "0.3", "--set", "update_every=2it"],
}
# Runs the CLI in-process and prints, last, whether torch was imported.
PROBE = ("import sys; from ticketlab.cli import main; code = main(sys.argv[1:]);"
         "print(json.dumps({'torch': 'torch' in sys.modules})); sys.exit(code)")


@pytest.fixture
def old_runs(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURE, runs)
    return runs


def ticketlab(runs: Path, *args: str) -> tuple[list[str], bool]:
    done = subprocess.run([sys.executable, "-c", "import json; " + PROBE, *args, "--runs-dir", str(runs), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])["torch"]


def files_of(runs: Path) -> dict[str, bytes]:
    return {str(p.relative_to(runs)): p.read_bytes() for p in sorted(runs.rglob("*"))
            if p.is_file() and p.name not in ("index.sqlite", ".lock") and p.parts[len(runs.parts)] != "reports"}


@pytest.mark.parametrize("run_id", sorted(COMMANDS))
def test_old_runs_are_reused_without_torch(old_runs, run_id):
    before = files_of(old_runs)
    out, torch_loaded = ticketlab(old_runs, *COMMANDS[run_id])
    doc = json.loads(out[-1])
    assert (doc["run_id"], doc["reused"], doc["status"]) == (run_id, True, "finished")
    assert files_of(old_runs) == before  # nothing written, nothing recomputed
    assert not torch_loaded  # with --json no report is written: nothing needs torch


def test_runs_and_show_read_old_runs_without_torch(old_runs):
    out, torch_loaded = ticketlab(old_runs, "runs")
    assert sorted(r["run_id"] for r in json.loads(out[-1])) == sorted(COMMANDS)
    assert not torch_loaded
    out, torch_loaded = ticketlab(old_runs, "show", "imp-ba1b")
    shown = json.loads(out[-1])
    assert shown["run_id"] == "imp-ba1b40e1687752a2" and shown["spec"]["levels"] == 2
    assert shown["metrics"]["levels"] == 2 and not torch_loaded
