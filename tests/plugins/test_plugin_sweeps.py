"""Every process of a sweep loads the driver's plugins: local workers (a process each) and
Ray tasks find the plugin's dataset and model, which the spec alone would not import."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
from plugin_files import unique_name, write_plugin  # noqa: E402

from ticketlab.cli.main import main  # noqa: E402
from ticketlab.core import plugins  # noqa: E402
from ticketlab.core.plugins import child_environment, load_plugins  # noqa: E402
from ticketlab.sweep.driver import run_sweep  # noqa: E402
from ticketlab.sweep.grid import sweep_from_dict  # noqa: E402


pytestmark = pytest.mark.usefixtures("plugin_tables")  # tests/plugins/conftest.py


def sweep_file(folder: Path, name: str) -> Path:
    base = {"kind": "train", "model": f"{name}_mlp_8", "dataset": name, "duration": "4it", "batch_size": 16,
            "eval_every": "4it"}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"base": base, "axes": {"seed": [0, 1]}, "retries": 0}))
    return path


def test_a_local_sweeps_workers_load_the_plugins_given_to_the_command(tmp_path, capsys):
    name, runs = unique_name(), tmp_path / "runs"
    plugin = write_plugin(tmp_path, name)
    code = main(["--plugins", str(plugin), "sweep", str(sweep_file(tmp_path, name)), "--runs-dir", str(runs),
                 "--device", "cpu", "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    done = json.loads(out.strip().splitlines()[-1])["runs"]
    assert [r["status"] for r in done] == ["finished", "finished"] and not any(r["reused"] for r in done), done
    for run in done:  # trained by a worker process, which read the plugin's dataset
        assert (runs / run["run_id"] / "logs" / "attempt-1.log").exists()
        assert json.loads((runs / run["run_id"] / "spec.json").read_text())["uses"] == {f"dataset:{name}": 1}


def test_child_environment_names_what_was_loaded(tmp_path):
    assert plugins.ENV not in child_environment({})
    plugin = write_plugin(tmp_path, unique_name())
    load_plugins([str(plugin)])
    assert child_environment({"OTHER": "1"}) == {"OTHER": "1", plugins.ENV: str(plugin.resolve())}


def test_a_ray_sweeps_tasks_load_the_plugins(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    name, runs = unique_name(), tmp_path / "runs"
    load_plugins([str(write_plugin(tmp_path, name))])
    monkeypatch.setenv("RAY_worker_niceness", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        sweep = sweep_from_dict(yaml.safe_load(sweep_file(tmp_path, name).read_text()))
        done = run_sweep(sweep, "ray", runs_dir=runs, device="cpu", retries=0, poll_s=0.2)
    finally:
        ray.shutdown()
    assert [r.status for r in done] == ["finished", "finished"], [r.errors for r in done]
