"""`scripts/gpu_check.sh` in its CPU mode, at its tiny size: every part leaves a record that
parses, each part's own JSON is written, a part that hangs past its limit or fails is
recorded so while the parts after it still run, and a part the budget cannot fit is
skipped. (The GPU mode runs the same code with CUDA's sizes; it needs a GPU machine.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.sh"

# The cheap parts, from each group: data (forced to the stand-in), (1) env, (2) the CUDA-only
# tests (skipped here), (3) one benchmark, (4) the 2:4 probe, (5) torchrun, (6) IMP on the CPU.
PARTS = "data,standin,env,tests_cuda,bench_batched_rtl,two_four,ddp_probe,imp_cpu_fp32"


def run_script(out: Path, timeout: float = 150, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GPU_CHECK_", "TICKETLAB_"))}
    environment.update(GPU_CHECK_PYTHON=sys.executable, OMP_NUM_THREADS="1", **env)
    return subprocess.run(["bash", str(SCRIPT), str(out), "--device", "cpu"], capture_output=True, text=True,
                          timeout=timeout, env=environment, cwd="/")


def records(out: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((out / "parts").glob("*.json")):
        record = json.loads(path.read_text())
        assert path.name == f"{record['n']:02d}_{record['id']}.json"
        found[record["id"]] = record
    return found


def test_cpu_mode_writes_every_record_and_a_failed_part_does_not_stop_the_rest(tmp_path):
    out = tmp_path / "out"
    empty = tmp_path / "no-data"
    empty.mkdir()
    done = run_script(out, GPU_CHECK_PARTS=PARTS, GPU_CHECK_DATA=str(empty), GPU_CHECK_LIMITS="env=5",
                      GPU_CHECK_SIMULATE="env:hang,two_four:fail")
    assert done.returncode == 1, done.stdout + done.stderr  # two parts did not pass
    parts = records(out)
    # every part of the plan has its record, in the plan's order
    assert list(parts)[:4] == ["install", "data", "standin", "env"] and list(parts)[-1] == "imp_cpu_fp32"
    assert len(parts) == 20
    status = {name: r["status"] for name, r in parts.items()}
    assert status["env"] == "timed_out" and parts["env"]["limit_s"] == 5 and parts["env"]["seconds"] < 12
    assert status["two_four"] == "failed" and parts["two_four"]["rc"] == 3
    assert "simulated failure" in parts["two_four"]["tail"]
    for name in ("data", "tests_cuda", "bench_batched_rtl", "ddp_probe", "imp_cpu_fp32"):
        assert status[name] == "passed", (name, parts[name], (out / "logs" / f"{name}.log").read_text()[-2000:])
    assert status["standin"] == "passed"  # the folder named held no Fashion-MNIST
    assert parts["tests_methods"]["note"].startswith("needs CUDA")
    assert parts["imp_cuda_bf16"]["note"] == "needs CUDA"
    assert parts["bench_epoch"]["note"] == "not selected (GPU_CHECK_PARTS)"

    data = json.loads((out / "data.json").read_text())
    assert data["dataset"] == "mnist" and data["real"] is False and "stand-in" in data["source"]
    tests = json.loads((out / "tests_cuda.json").read_text())
    assert tests["failed"] == tests["errors"] == 0 and tests["skipped"] >= 1 and tests["source"] == "junit"
    assert all("CUDA" in reason for reason in tests["skip_reasons"])
    rtl = json.loads((out / "bench" / "bench_batched_rtl" / "batched_rtl_cpu.json").read_text())
    assert rtl["dataset"] == "mnist" and rtl["figures"]
    probe = json.loads((out / "ddp_probe.json").read_text())
    assert probe["ok"] and probe["backend"] == "gloo" and probe["launched_by_torchrun"]
    imp = json.loads((out / "imp" / "imp_cpu_fp32.json").read_text())
    assert imp["returncode"] == 0 and imp["status"]["device"] == "cpu" and imp["status"]["precision"] == "fp32"
    assert [lv["level"] for lv in imp["levels"]] == [0, 1, 2]
    assert set(imp["levels"][1]["controls"]) == {"reinit", "random"}
    comparison = json.loads((out / "imp_compare.json").read_text())
    assert comparison["reference"] == "imp_cpu_fp32" and set(comparison["missing"]) == {"imp_cuda_fp32",
                                                                                          "imp_cuda_bf16"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"passed": 7, "failed": 1, "timed_out": 1, "skipped": 11}
    assert "gpu_check summary" in done.stdout and "imp_cpu_fp32" in done.stdout
    assert not (out / "env.json").exists(), "the hung part was stopped before it wrote anything"
    assert sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) < 5e6, "OUT holds figures and logs, no runs"


def test_parts_the_budget_cannot_fit_are_skipped(tmp_path):
    done = run_script(tmp_path / "out", timeout=60, GPU_CHECK_PARTS="env,two_four", GPU_CHECK_BUDGET="12",
                      GPU_CHECK_SIMULATE="env:hang")
    assert done.returncode == 0, done.stdout + done.stderr
    parts = records(tmp_path / "out")
    assert parts["env"]["status"] == parts["two_four"]["status"] == "skipped"
    assert parts["env"]["note"] == "no time left in the budget"
    assert all(r["status"] == "skipped" for name, r in parts.items() if name != "install")


@pytest.mark.parametrize("args", [[], ["OUT", "tpu"], ["OUT", "--device"]])
def test_bad_arguments_are_refused(tmp_path, args):
    args = [str(tmp_path / a) if a == "OUT" else a for a in args]
    done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage:" in done.stderr
