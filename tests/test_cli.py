"""The command line: results as JSON, and clear one-paragraph errors for bad input."""
import json
import subprocess
import sys

import pytest

from ticketlab.cli.main import main

TINY = ["--model", "mlp_32", "--dataset", "synthetic", "--epochs", "2"]


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_then_reuse(capsys, runs_dir):
    code, out, _ = cli(capsys, "train", *TINY, "--json")
    assert code == 0
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["status"] == "finished" and not doc["reused"]
    assert doc["run_id"].startswith("train-") and 0 <= doc["metrics"]["test_accuracy"] <= 1
    code, out, _ = cli(capsys, "train", *TINY, "--json")
    assert json.loads(out.strip().splitlines()[-1])["reused"] is True

    code, out, _ = cli(capsys, "runs", "--json")
    assert [r["run_id"] for r in json.loads(out)] == [doc["run_id"]]
    code, out, _ = cli(capsys, "runs")
    assert doc["run_id"] in out and "finished" in out
    code, out, _ = cli(capsys, "show", doc["run_id"][6:12], "--json")
    shown = json.loads(out)
    assert shown["spec"]["model"] == "mlp_32" and shown["metrics"] == doc["metrics"]


def test_run_config_file_with_overrides(capsys, runs_dir, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("kind: train\nmodel: mlp_32\ndataset: synthetic\nduration: 1ep\n")
    code, out, _ = cli(capsys, "run", str(config), "--set", "seed=4", "--json")
    assert code == 0
    code, out, _ = cli(capsys, "show", json.loads(out.splitlines()[-1])["run_id"], "--json")
    assert json.loads(out)["spec"]["seed"] == 4


@pytest.mark.parametrize("args,message", [
    (["train", "--model", "resnet_9000", "--dataset", "synthetic"], "Unknown model 'resnet_9000'"),
    (["train", "--model", "mlp_32", "--dataset", "imagenet"], "Unknown dataset 'imagenet'. .*fashion_mnist"),
    (["train", *TINY, "--set", "duration=12 epochs"], "Malformed duration"),
    (["train", *TINY, "--set", "learning_rate=0.1"], "Unknown train setting"),
    (["train", *TINY, "--set", "lr"], "Malformed --set"),
    (["train", "--model", "vgg16", "--dataset", "synthetic", "--epochs", "1"], "vgg16"),
    (["show", "nosuchrun"], "No run"),
    (["run", "missing.yaml"], "No config file"),
    (["imp", *TINY, "--set", "train=foo"], "Setting 'train' is a nested train spec"),
    (["lmc", "/", "--level", "1"], "/ is not a run directory"),
])
def test_bad_input_is_one_paragraph_and_exit_2(capsys, runs_dir, args, message):
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert err.startswith("ticketlab: error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    import re
    assert re.search(message, err), err


def test_corrupt_checkpoint_is_reported_moved_aside_and_the_unit_trains_again(capsys, runs_dir):
    from ticketlab.specs import TrainSpec
    spec = TrainSpec(model="mlp_32", dataset="synthetic", duration="2ep")
    run_dir = runs_dir / spec.run_id
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.pt").write_bytes(b"PK\x03\x04 this is not a checkpoint")
    code, _, err = cli(capsys, "train", *TINY)
    assert code == 0 and f"The checkpoint {run_dir / 'checkpoint.pt'} was damaged" in err
    assert "trains again from its start" in err and len(list(run_dir.glob("checkpoint.pt.corrupt-*"))) == 1


def test_module_entry_point_and_console_script_agree():
    result = subprocess.run([sys.executable, "-m", "ticketlab", "datasets"], capture_output=True, text=True)
    assert result.returncode == 0 and "fashion_mnist: input (1, 28, 28), 10 classes" in result.stdout


def test_a_misfit_model_leaves_no_run_directory(capsys, runs_dir):
    code, _, err = cli(capsys, "train", "--model", "conv4", "--dataset", "mnist1d", "--epochs", "1")
    assert code == 2 and "conv4" in err and "(40,)" in err
    assert not runs_dir.exists() or not [p for p in runs_dir.iterdir() if p.is_dir()]


def test_rerunning_a_finished_spec_does_not_even_import_torch(runs_dir):
    args = [sys.executable, "-c", "import sys; from ticketlab.cli import main; code = main(sys.argv[1:]);"
            "print('torch' in sys.modules); sys.exit(code)", "train", *TINY, "--quiet"]
    first = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "finished:" in first.stdout and first.stdout.strip().endswith("True")
    second = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "reused" in second.stdout and second.stdout.strip().endswith("False")


def test_truncated_dataset_file_is_a_clear_error(capsys, runs_dir, tmp_path):
    import gzip
    import shutil
    from pathlib import Path
    source = Path("/usr/share/datasets/fashion-mnist")
    if not source.exists():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    data = tmp_path / "data"
    data.mkdir()
    for f in source.iterdir():
        shutil.copy(f, data / f.name)
    raw = gzip.decompress((data / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (data / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    code, _, err = cli(capsys, "train", "--model", "mlp_32", "--dataset", "fashion_mnist", "--epochs", "1",
                       "--data-dir", str(data))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "t10k-labels" in err, err
