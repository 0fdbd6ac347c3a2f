"""Live TensorBoard curves: one event folder per unit, read back with TensorBoard's own
reader and compared with the unit's history.json; the flag, the config key and the
environment variable; off by default (and then not imported); the package missing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import TicketlabError
from ticketlab.specs import DstSpec, ImpSpec, TrainSpec
from ticketlab.specs.config import load_config
from ticketlab.store import RunStore

TINY = ["--model", "mlp_32", "--dataset", "synthetic", "--epochs", "2", "--json", "--quiet"]
EVAL_TAGS = {"loss/train", "accuracy/test", "loss/test", "accuracy/val", "loss/val", "lr", "density"}


def curves(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    reader = EventAccumulator(str(folder))
    reader.Reload()
    return {tag: [(e.step, e.value) for e in reader.Scalars(tag)] for tag in reader.Tags()["scalars"]}


def assert_history(found: dict, history: list[dict]) -> None:
    """Every evaluation record of the unit, at its step, with its numbers (float32 in the file)."""
    values = {"loss/train": lambda r: r["train_loss"], "lr": lambda r: r["lr"]}
    for split in ("test", "val"):
        if split in history[0]:
            values[f"loss/{split}"] = lambda r, s=split: r[s]["loss"]
            if "accuracy" in history[0][split]:
                values[f"accuracy/{split}"] = lambda r, s=split: r[s]["accuracy"]
    for tag, value in values.items():
        assert [step for step, _ in found[tag]] == [r["step"] for r in history], tag
        assert [v for _, v in found[tag]] == pytest.approx([value(r) for r in history], rel=1e-6, abs=1e-7), tag


def history_of(runs_dir, run_id: str, unit: str = ".") -> list[dict]:
    return json.loads((runs_dir / run_id / unit / "history.json").read_text())


def cli(capsys, *args) -> dict:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_training_writes_its_history_as_curves(runs_dir, tmp_path, tiny_spec):
    spec = tiny_spec.replace(val_size=64)
    api.run(spec, tensorboard=tmp_path / "tb")
    found = curves(tmp_path / "tb" / spec.run_id)
    assert set(found) == EVAL_TAGS
    assert_history(found, history_of(runs_dir, spec.run_id))
    assert {v for _, v in found["density"]} == {1.0}


@pytest.mark.parametrize("method, fields", [("rigl", {"update_every": "4it"}),
                                            ("gmp", {"update_every": "5it", "distribution": "uniform"})])
def test_dynamic_sparse_training_writes_each_mask_update(runs_dir, tmp_path, tiny_spec, method, fields):
    spec = DstSpec(train=tiny_spec, method=method, density=0.2, **fields)
    result = api.run(spec, tensorboard=tmp_path / "tb")
    found = curves(tmp_path / "tb" / spec.run_id)
    assert set(found) == EVAL_TAGS - {"accuracy/val", "loss/val"} | {"mask/changed"}
    assert_history(found, history_of(runs_dir, spec.run_id))
    changed = found["mask/changed"]
    mask = RunStore(runs_dir).open(spec.run_id).load_mask("mask.safetensors")
    densities = [v for _, v in found["density"]]
    assert densities[-1] == pytest.approx(result.metrics["density"], abs=1e-6)
    if method == "rigl":  # every 4 steps up to 75% of the 96 steps; as many grown as dropped
        assert [step for step, _ in changed] == list(range(4, 73, 4))
        assert all(v % 2 == 0 for _, v in changed) and changed[0][1] > 0
        assert changed[-1][1] == 0, "the drop fraction has decayed to nothing at the last update"
        assert len(set(densities)) == 1
    else:  # pruned only: the updates add up to every weight pruned, the density falls
        assert [step for step, _ in changed] == sorted({step for step, _ in changed})
        assert sum(v for _, v in changed) == mask.size() - mask.kept()
        assert densities == sorted(densities, reverse=True) and densities[0] < 1


def test_every_unit_has_its_folder_batched_controls_too(runs_dir, tmp_path):
    train = TrainSpec(model="mlp_32_16", dataset="synthetic", duration="3ep", batch_size=32, lr=0.05, momentum=0.9,
                      eval_every="1ep")
    spec = ImpSpec(train=train, levels=1, rewind="1ep", controls=("random", "oneshot"))
    api.run(spec, batch=True, tensorboard=tmp_path / "tb")
    controls = RunStore(runs_dir).open(spec.run_id).result()["levels"][1]["controls"]
    assert {c.get("batched") for c in controls.values()} == {2}
    for unit in ("level_00", "level_01", "level_01/random", "level_01/oneshot"):
        found = curves(tmp_path / "tb" / spec.run_id / unit)
        assert_history(found, history_of(runs_dir, spec.run_id, unit))
        assert found["density"][0][1] == (1.0 if unit == "level_00" else pytest.approx(0.8, abs=0.01))


def test_a_resumed_unit_shows_each_step_once(runs_dir, tmp_path, tiny_spec, interrupt_at):
    with pytest.raises(KeyboardInterrupt):  # checkpoints at 20, 40 and 60, evaluations at 32 and 64 written
        api.run(tiny_spec, checkpoint_every="20it", progress=interrupt_at(70), tensorboard=tmp_path / "tb")
    time.sleep(1.05 - time.time() % 1)  # event files sort by their second of creation, then a counter
    api.run(tiny_spec, checkpoint_every="20it", tensorboard=tmp_path / "tb")
    found = curves(tmp_path / "tb" / tiny_spec.run_id)
    history = history_of(runs_dir, tiny_spec.run_id)
    assert [r["step"] for r in history] == [32, 64, 96]
    assert_history(found, history)  # step 64, written again after resuming from 60, shows once


def test_the_flag_beats_the_config_key_which_beats_the_environment(capsys, runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETLAB_TENSORBOARD", str(tmp_path / "env"))
    by_env = cli(capsys, "train", *TINY, "--set", "seed=1")["run_id"]
    config = tmp_path / "c.yaml"
    config.write_text(f"kind: train\nmodel: mlp_32\ndataset: synthetic\nduration: 1ep\n"
                      f"tensorboard: {tmp_path / 'config'}\n")
    by_config = cli(capsys, "run", config, "--json", "--quiet")["run_id"]
    by_flag = cli(capsys, "run", config, "--set", "seed=3", "--tensorboard", tmp_path / "flag", "--json")["run_id"]
    assert [p.name for p in (tmp_path / "env").iterdir()] == [by_env]
    assert [p.name for p in (tmp_path / "config").iterdir()] == [by_config]
    assert [p.name for p in (tmp_path / "flag").iterdir()] == [by_flag]
    assert by_config == TrainSpec(model="mlp_32", dataset="synthetic", duration="1ep").run_id, "not in the hash"
    assert load_config(str(config))[1] == {"tensorboard": str(tmp_path / "config")}


def test_a_sweep_passes_the_flag_to_its_runs(capsys, runs_dir, tmp_path):
    sweep = tmp_path / "s.yaml"
    sweep.write_text("base: {kind: train, model: mlp_32, dataset: synthetic, duration: 1ep}\naxes: {seed: [5, 6]}\n")
    code = main(["sweep", str(sweep), "--backend", "serial", "--tensorboard", str(tmp_path / "tb"), "--json"])
    runs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"]
    assert code == 0 and len(runs) == 2
    for run in runs:
        assert_history(curves(tmp_path / "tb" / run["run_id"]), history_of(runs_dir, run["run_id"]))


def test_off_by_default_and_then_never_imported(runs_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TICKETLAB_TENSORBOARD"}
    code = ("import sys; from ticketlab.cli import main; code = main(sys.argv[1:]); "
            "print([m for m in ('tensorboard', 'torch.utils.tensorboard') if m in sys.modules]); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "train", *TINY[:-2], "--quiet"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=True)
    assert "finished:" in done.stdout and done.stdout.strip().endswith("[]")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_without_the_package_nothing_trains(runs_dir, tmp_path, tiny_spec, monkeypatch, refused):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` fails as if not installed
    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    with pytest.raises(TicketlabError, match=r"--tensorboard needs the tensorboard package: "
                                             r"pip install 'ticketlab\[tensorboard\]'"):
        api.run(tiny_spec, tensorboard=tmp_path / "tb")
    assert not (runs_dir / tiny_spec.run_id / "history.json").exists() and not (tmp_path / "tb").exists()
    assert "needs the tensorboard package" in refused("train", *TINY[:-2], "--tensorboard", str(tmp_path / "tb"))


def test_a_bad_setting_names_where_it_came_from(refused, runs_dir, tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text("kind: train\nmodel: mlp_32\ndataset: synthetic\ntensorboard: 3\n")
    assert "'tensorboard' is the folder for live TensorBoard curves" in refused("run", str(config))
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("TICKETLAB_TENSORBOARD", str(tmp_path / "afile"))
    err = refused("train", *TINY[:-2])
    assert "is a file, not a folder: $TICKETLAB_TENSORBOARD must name a folder" in err


def test_a_regression_unit_has_losses_and_no_accuracy(runs_dir, tmp_path, restore_tables):
    from ticketlab.core.registry import VERSIONS
    from ticketlab.data import DatasetInfo, register_dataset
    from ticketlab.data.registry import ENTRIES
    from ticketlab.train.task_names import TASKS

    def linear_targets():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(160, 8)).astype(np.float32)
        y = x @ rng.normal(size=(8, 2)).astype(np.float32)
        return x[:128], y[:128], x[128:], y[128:]

    restore_tables(ENTRIES, VERSIONS, TASKS)
    info = DatasetInfo("tb_regression", (8,), 2, (0.0,), (1.0,), augment=False, crop_padding=0, flip=False,
                       train_size=128, test_size=32, task="regression")
    register_dataset("tb_regression", info=info, format="generated", loader=linear_targets)
    spec = TrainSpec(model="mlp_8", dataset="tb_regression", duration="2ep", batch_size=32, eval_every="1ep")
    api.run(spec, tensorboard=tmp_path / "tb")
    found = curves(tmp_path / "tb" / spec.run_id)
    assert set(found) == {"loss/train", "loss/test", "lr", "density"}
    assert_history(found, history_of(runs_dir, spec.run_id))
