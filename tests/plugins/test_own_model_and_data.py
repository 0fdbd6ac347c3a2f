"""The example plugin (examples/own_model_and_data.py), loaded from outside the package with
--plugins, through every command of the CLI on a small budget: each gives a result and a
report row. The runs share one folder, so the IMP run feeds lmc, pools, export and evaluate."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ticketlab.cli.main import main

PLUGIN = str(Path(__file__).resolve().parents[2] / "examples" / "own_model_and_data.py")
DATA = ["--plugins", PLUGIN, "--model", "example_cnn", "--dataset", "example_gratings"]
IMP = ["imp", *DATA, "--steps", "48", "--levels", "2", "--rewind", "8it", "--controls", "reinit,random",
       "--set", "train.val_size=256"]


@pytest.fixture(scope="module", autouse=True)
def isolated():
    """What the plugin registers (and the record that it was loaded) leaves with this module,
    so that the other tests see the tables as they were."""
    from ticketlab.core import plugins
    from ticketlab.core.registry import VERSIONS
    from ticketlab.data.registry import ENTRIES
    from ticketlab.models.families import FAMILIES

    saved = [(table, dict(table)) for table in (ENTRIES, FAMILIES, VERSIONS, plugins._LOADED)]
    yield
    for table, before in saved:
        table.clear()
        table.update(before)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("own_runs")


@pytest.fixture(scope="module")
def imp_run(runs):
    assert main([*IMP, "--runs-dir", str(runs), "--json", "--quiet"]) == 0
    (found,) = [p.name for p in runs.iterdir() if p.name.startswith("imp-")]
    return found


def ticketlab(capsys, runs, *args) -> dict:
    """Run one command with --json; its last line, parsed."""
    code = main([*args, "--runs-dir", str(runs), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def finished(doc: dict) -> str:
    assert doc["status"] == "finished", doc
    return doc["run_id"]


def rows_of(capsys, runs, tmp_path, *run_ids: str) -> list[dict]:
    """`ticketlab report` on the runs: its summary rows (method, density, mean)."""
    code = main(["--plugins", PLUGIN, "report", *run_ids, "--runs-dir", str(runs), "-o", str(tmp_path / "report"),
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = json.loads(out.strip().splitlines()[-1])["summaries"]
    assert rows and all(row["mean"] == row["mean"] for row in rows), rows  # no NaN
    return rows


def printed(capsys, runs, *args) -> str:
    """What a method prints after its run (lmc, pools and rtl report there, not in
    `ticketlab report`): the command again, reusing the finished run."""
    code = main([*args, "--runs-dir", str(runs), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|") and not set(line) <= set("|-: ")]


def test_train(capsys, runs, tmp_path):
    doc = ticketlab(capsys, runs, "train", *DATA, "--steps", "32")
    assert 0.25 < doc["metrics"]["test_accuracy"] <= 1  # above chance (4 classes)
    assert rows_of(capsys, runs, tmp_path, finished(doc))


def test_imp_with_reinit_and_random_controls(capsys, runs, tmp_path, imp_run):
    doc = ticketlab(capsys, runs, *IMP)
    assert doc["reused"] and doc["run_id"] == imp_run
    methods = {row["method"] for row in rows_of(capsys, runs, tmp_path, finished(doc))}
    assert {"imp", "reinit", "random"} <= methods, methods


@pytest.mark.parametrize("scorer", ["snip", "grasp", "synflow", "random"])
def test_pai_with_every_scorer(capsys, runs, tmp_path, scorer):
    doc = ticketlab(capsys, runs, "pai", *DATA, "--steps", "32", "--method", scorer, "--density", "0.3")
    rows = rows_of(capsys, runs, tmp_path, finished(doc))
    assert [round(row["density"], 1) for row in rows] == [0.3]


@pytest.mark.parametrize("rule", ["set", "rigl"])
def test_dst_with_set_and_rigl(capsys, runs, tmp_path, rule):
    doc = ticketlab(capsys, runs, "dst", *DATA, "--steps", "32", "--method", rule, "--density", "0.3",
                    "--update-every", "8it")
    assert rows_of(capsys, runs, tmp_path, finished(doc))


def test_rst(capsys, runs, tmp_path):
    doc = ticketlab(capsys, runs, "rst", *DATA, "--steps", "32", "--density", "0.3", "--reg-step", "0.25",
                    "--reg-every", "1", "--stabilize", "4", "--dense-layer", "head")
    assert rows_of(capsys, runs, tmp_path, finished(doc))


def test_lmc(capsys, runs, tmp_path, imp_run):
    command = ["--plugins", PLUGIN, "lmc", imp_run, "--level", "1", "--points", "3"]
    doc = ticketlab(capsys, runs, *command)
    finished(doc)
    assert 0 <= doc["metrics"]["instability"] <= 1, doc
    assert "instability: " in printed(capsys, runs, *command)


def test_pools(capsys, runs, tmp_path, imp_run):
    command = ["--plugins", PLUGIN, "pools", imp_run, "--target", "1", "--no-ood", "--bn-samples", "256"]
    finished(ticketlab(capsys, runs, *command))
    assert len(table_rows(printed(capsys, runs, *command))) >= 2  # a header and a row


@pytest.mark.parametrize("partition", ["class", "cluster:2"])
def test_rtl_with_class_and_cluster_partitions(capsys, runs, tmp_path, partition):
    command = ["rtl", *DATA, "--steps", "32", "--partition", partition, "--sparsity", "0.5", "--extract-steps", "8it",
               "--no-baselines"]
    finished(ticketlab(capsys, runs, *command))
    assert len(table_rows(printed(capsys, runs, *command))) >= 2  # a header and a row


@pytest.mark.parametrize("form", ["dense", "csr"])
def test_export(capsys, runs, tmp_path, imp_run, form):
    import torch

    import ticketlab as api

    out = tmp_path / f"ticket.{form}.safetensors"
    written = ticketlab(capsys, runs, "--plugins", PLUGIN, "export", imp_run, "--level", "2", "--format", form,
                        "-o", str(out))
    assert written["model"] == "example_cnn" and out.is_file()
    model = api.load_inference(out)
    assert model(torch.randn(4, 1, 16, 16)).shape == (4, 4)


def test_evaluate(capsys, runs, imp_run):
    rows = ticketlab(capsys, runs, "--plugins", PLUGIN, "evaluate", imp_run)
    assert rows


def test_console_script_loads_the_plugin_from_outside():
    """`python -m ticketlab --plugins FILE` in a fresh process: the plugin's names are listed."""
    for command, name in (("models", "example_cnn"), ("datasets", "example_gratings")):
        result = subprocess.run([sys.executable, "-m", "ticketlab", "--plugins", PLUGIN, command],
                                capture_output=True, text=True)
        assert result.returncode == 0 and name in result.stdout, result.stderr


def test_the_api_runs_the_same_way(tmp_path):
    import ticketlab as api
    from ticketlab.core.plugins import load_plugins

    load_plugins([PLUGIN])
    spec = api.ImpSpec(train=api.TrainSpec(model="example_cnn", dataset="example_gratings", duration="32it"),
                       levels=1, controls=("random",))
    result = api.run(spec, runs_dir=tmp_path)
    assert result.status == "finished"
    assert spec.canonical()["train"]["uses"] == {"dataset:example_gratings": 1, "model:example_cnn": 1}


def test_a_ray_sweep_of_four_runs_finds_the_plugin(tmp_path, capsys):
    """Ray tasks are other processes: they load the plugin that the command loaded."""
    pytest.importorskip("ray")
    import yaml

    base = {"kind": "train", "model": "example_cnn", "dataset": "example_gratings", "duration": "16it",
            "eval_every": "16it"}
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"base": base, "axes": {"seed": [0, 1, 2, 3]}, "retries": 0}))
    code = main(["--plugins", PLUGIN, "sweep", str(sweep), "--backend", "ray", "--runs-dir", str(tmp_path / "runs"),
                 "--device", "cpu", "--json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    done = json.loads(out.strip().splitlines()[-1])["runs"]
    assert [r["status"] for r in done] == ["finished"] * 4, done
    assert len({r["run_id"] for r in done}) == 4
