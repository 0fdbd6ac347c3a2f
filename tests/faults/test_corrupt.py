"""Every artefact, truncated or with a byte flipped, then read again or run again: a clear
error naming the file and what to do, or a rebuild where one is possible (a unit's
checkpoint, a result file, spec.json, the index), never a traceback and never a damaged
file used as if whole."""
from __future__ import annotations

import json
import shutil
import signal
import sqlite3

import pytest

from fault_harness import contents, index_matches_folders, leftovers, method_specs, run_args
from ticketlab import api
from ticketlab.cli.main import main
from ticketlab.core.errors import CheckpointError
from ticketlab.core.faults import FAULT_ENV
from ticketlab.store import RunStore
from ticketlab.store.checkpoint import load_checkpoint

IMP = method_specs()["imp"]


def flip(path, at: int = -1) -> None:
    """Invert one byte of `path` (the last by default: inside the data, not the header)."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {"flipped": flip, "truncated": truncate}


def cli(capsys, *argv) -> tuple[int, str]:
    """`ticketlab ARGV` here: its exit status, and stderr then stdout (whose last line is
    the --json document)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, err + out


@pytest.fixture(scope="module")
def finished_imp(tmp_path_factory):
    runs = tmp_path_factory.mktemp("imp") / "runs"
    api.run(IMP, runs_dir=runs, checkpoint_every="3it")
    return runs


@pytest.fixture
def imp_runs(finished_imp, tmp_path):
    """A copy of a finished IMP run (with a control) to damage."""
    runs = tmp_path / "runs"
    shutil.copytree(finished_imp, runs)
    return runs, RunStore(runs).open(IMP.run_id)


# -- checkpoints ------------------------------------------------------------------------
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_checkpoint_is_moved_aside_and_its_unit_trains_again(damage, straight, forker, tmp_path):
    spec_file, _, expected = straight("train")
    runs = tmp_path / "runs"
    killed = forker.run(run_args(spec_file, runs), tmp_path / "killed.log", **{FAULT_ENV: "kill:checkpoint:6:after"})
    assert killed.signal == signal.SIGKILL
    (checkpoint,) = runs.glob("*/checkpoint.pt")
    DAMAGE[damage](checkpoint)
    with pytest.raises(CheckpointError, match=f"The checkpoint {checkpoint} is corrupt") as err:
        load_checkpoint(checkpoint)
    assert "Run the same command again" in str(err.value)
    again = forker.run(run_args(spec_file, runs), tmp_path / "again.log")
    assert again.code == 0 and "Traceback" not in again.output, again
    assert f"The checkpoint {checkpoint} was damaged" in again.output and "resuming from step" not in again.output
    assert "trains again from its start" in again.output
    assert [p.split("/")[-1].split(".corrupt-")[0] for p in leftovers(runs)] == ["checkpoint.pt"]  # kept for a look
    assert contents(runs) == expected


def test_a_damaged_rewind_point_is_a_clear_error(imp_runs, capsys, tmp_path):
    runs, run = imp_runs
    flip(run.path / "rewind.pt")
    (run.path / "result.json").unlink()  # so that the run is not reused but goes on
    shutil.rmtree(run.path / "level_01")
    spec_file = tmp_path / "imp.yaml"
    spec_file.write_text((run.path / "spec.yaml").read_text())
    code, said = cli(capsys, "run", str(spec_file), "--runs-dir", str(runs), "--quiet")
    assert code == 2 and f"The checkpoint {run.path / 'rewind.pt'} is corrupt" in said
    assert f"move the run directory {run.path} away" in said


# -- tensor files -----------------------------------------------------------------------
@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("name", ["mask.safetensors", "model.safetensors"])
def test_a_damaged_tensor_file_is_refused_naming_it(name, damage, imp_runs, capsys, tmp_path):
    runs, run = imp_runs
    path = run.path / "level_01" / name
    DAMAGE[damage](path)
    load = run.level(1).load_mask if name.startswith("mask") else run.level(1).load_tensors
    with pytest.raises(CheckpointError) as err:
        load(name)
    message = str(err.value)
    assert message.startswith(f"The tensor file {path} is corrupt") and "so it is not used" in message
    assert f"move the run directory {run.path} away and run the same command again" in message
    # What users run: the similarity of the run's masks, the export of its weights.
    argv = (["similarity", run.run_id, "-o", str(tmp_path / "sim")] if name.startswith("mask") else
            ["export", run.run_id, "--level", "1", "-o", str(tmp_path / "ticket.safetensors")])
    code, said = cli(capsys, *argv, "--runs-dir", str(runs))
    assert code == 2 and f"The tensor file {path} is corrupt" in said


# -- JSON files -------------------------------------------------------------------------
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_result_file_is_moved_aside_and_computed_again(damage, imp_runs, capsys, tmp_path):
    runs, run = imp_runs
    written = run.result()
    DAMAGE[damage](run.path / "result.json")
    code, said = cli(capsys, "show", run.run_id, "--runs-dir", str(runs))
    assert code == 0 and f"{run.run_id} (corrupt)" in said
    spec_file = tmp_path / "imp.yaml"
    spec_file.write_text((run.path / "spec.yaml").read_text())
    code, said = cli(capsys, "run", str(spec_file), "--runs-dir", str(runs), "--json")
    assert code == 0 and json.loads(said.splitlines()[-1])["reused"] is False
    assert run.result()["metrics"] == written["metrics"]
    assert [p.rsplit(".corrupt-", 1)[0] for p in leftovers(runs)] == [f"{run.run_id}/result.json"]


def test_a_damaged_unit_result_says_how_to_compute_it_again(imp_runs, capsys, tmp_path):
    runs, run = imp_runs
    before = contents(runs)  # of a run made without the command line: no report
    flip(run.path / "level_01" / "random" / "result.json", at=0)
    with pytest.raises(CheckpointError) as err:
        run.level(1).child("random").result()
    message = str(err.value)
    assert f"Delete {run.path / 'result.json'}" in message and f"ticketlab run {run.path / 'spec.yaml'}" in message
    (run.path / "result.json").unlink()  # as the message says
    code, said = cli(capsys, "run", str(run.path / "spec.yaml"), "--runs-dir", str(runs))
    assert code == 0 and "was damaged (not a whole JSON object)" in said
    assert {k: v for k, v in contents(runs).items() if not k.startswith("reports/")} == before


def test_a_damaged_status_file_changes_nothing_that_matters(imp_runs, capsys):
    runs, run = imp_runs
    (run.path / "status.json").write_text('{"status": "fini')
    code, said = cli(capsys, "show", run.run_id, "--runs-dir", str(runs))
    assert code == 0 and f"{run.run_id} (finished)" in said
    index_matches_folders(runs)


def test_a_damaged_spec_json_is_written_again_from_spec_yaml(imp_runs, capsys):
    runs, run = imp_runs
    written = (run.path / "spec.json").read_text()
    flip(run.path / "spec.json", at=0)
    code, said = cli(capsys, "runs", "--json", "--runs-dir", str(runs))
    assert code == 0 and "spec.json was damaged" in said and "written again from spec.yaml" in said
    assert (run.path / "spec.json").read_text() == written
    truncate(run.path / "spec.json")
    truncate(run.path / "spec.yaml")
    code, said = cli(capsys, "show", run.run_id, "--runs-dir", str(runs))
    assert code == 2 and f"Cannot read {run.path / 'spec.json'}" in said and "Move the directory away" in said
    code, said = cli(capsys, "runs", "--runs-dir", str(runs))  # listed without it, and says so
    assert code == 0 and f"{run.run_id} is left out of the index" in said


# -- the index --------------------------------------------------------------------------
def _metric_in_place(path) -> None:
    """Change one digit of a stored metric: a page SQLite finds sound, a row that is not."""
    data = bytearray(path.read_bytes())
    at = data.index(b'"test_accuracy": ') + len(b'"test_accuracy": ')
    data[at] = ord("7") if data[at] != ord("7") else ord("3")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "a changed value"])
def test_a_damaged_index_is_moved_aside_and_rebuilt_from_the_run_folders(damage, imp_runs, capsys):
    runs, run = imp_runs
    index = runs / "index.sqlite"
    {"garbage": lambda p: p.write_bytes(b"not a database " * 100), "truncated": truncate,
     "a changed value": _metric_in_place}[damage](index)
    code, said = cli(capsys, "runs", "--json", "--runs-dir", str(runs))
    assert code == 0 and f"the index {index} was damaged" in said and "rebuilding it from the run folders" in said
    rows = json.loads(said.splitlines()[-1])
    assert {r["run_id"] for r in rows} == {IMP.run_id} and rows[0]["metrics"] == run.result()["metrics"]
    assert len(list(runs.glob("index.sqlite.corrupt-*"))) == 1
    assert sqlite3.connect(index).execute("PRAGMA quick_check").fetchone()[0] == "ok"


# -- a dataset file and an inference export ---------------------------------------------
def test_a_truncated_dataset_file_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import gzip

    monkeypatch.setenv("TICKETLAB_NO_DOWNLOAD", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    for name, size in (("train-images-idx3-ubyte", 28 * 28 * 4), ("train-labels-idx1-ubyte", 4),
                       ("t10k-images-idx3-ubyte", 28 * 28 * 2), ("t10k-labels-idx1-ubyte", 2)):
        (data / f"{name}.gz").write_bytes(gzip.compress(b"\x00" * (16 + size)))
    bad = data / "train-images-idx3-ubyte.gz"
    truncate(bad)
    code, said = cli(capsys, "train", "--model", "mlp_16", "--dataset", "mnist", "--steps", "2", "--data-dir",
                     str(data), "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert code == 2 and f"{bad} is a truncated or corrupt gzip file" in said


@pytest.fixture
def exported(imp_runs, tmp_path):
    from ticketlab.export.inference import export_inference

    runs, run = imp_runs
    path = tmp_path / "ticket.safetensors"
    export_inference(run, run.level(1), path)
    return path


def test_a_truncated_inference_export_is_a_clear_error(exported):
    from ticketlab.export.inference import load_inference

    truncate(exported)
    with pytest.raises(CheckpointError, match=f"{exported} is not a readable inference file"):
        load_inference(exported)


def test_an_inference_export_with_a_flipped_weight_byte_is_refused(exported):
    from ticketlab.export.inference import load_inference

    load_inference(exported)  # whole: it loads
    flip(exported)
    with pytest.raises(CheckpointError, match="does not match the checksum .* Export it again from its run"):
        load_inference(exported)
