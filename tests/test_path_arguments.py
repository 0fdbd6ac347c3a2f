"""Every file and folder argument of the command line is checked before a command runs:
a missing path, a file where a folder belongs (or the reverse), or one out of reach is one
paragraph naming the argument and the path, never a traceback; a --data-dir the user
names is the only place its dataset is read from."""
import gzip
import os
import struct

import numpy as np
import pytest

from ticketlab.cli.main import main
from ticketlab.core.errors import DatasetError
from ticketlab.data import load_dataset, locate

TINY = ["--model", "mlp_32", "--dataset", "synthetic", "--epochs", "1", "--quiet"]
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("not a folder")
    return path


def test_runs_dir_that_is_a_file(capsys, runs_dir, a_file, refused):
    err = refused("train", "--model", "lenet_300_100", "--dataset", "fashion_mnist", "--runs-dir", str(a_file))
    assert f"{a_file} is a file, not a folder" in err and "--runs-dir" in err


def test_runs_dir_below_a_file(capsys, runs_dir, a_file, refused):
    err = refused("train", *TINY, "--runs-dir", str(a_file / "runs"))
    assert f"{a_file / 'runs'} does not exist and cannot be created, since {a_file} is a file" in err


def test_runs_dir_in_an_unwritable_folder(capsys, runs_dir, tmp_path, monkeypatch, refused):
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    # Tests may run as root, for whom every folder is writable: deny the folder to the check.
    monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and not (str(p) == str(locked) and mode & os.W_OK))
    err = refused("train", *TINY, "--runs-dir", str(locked / "runs"))
    assert f"since {locked} cannot be written to" in err
    assert not (locked / "runs").exists()


def test_a_runs_folder_that_does_not_exist_yet_is_created(capsys, runs_dir, tmp_path):
    assert main(["train", *TINY, "--runs-dir", str(tmp_path / "new" / "runs")]) == 0
    assert (tmp_path / "new" / "runs" / "index.sqlite").is_file()


def test_the_runs_folder_from_the_environment_is_checked_too(capsys, a_file, monkeypatch, refused):
    monkeypatch.setenv("TICKETLAB_RUNS", str(a_file))
    err = refused("runs")
    assert f"{a_file} is a file, not a folder: $TICKETLAB_RUNS must name" in err


def test_an_empty_path_is_refused(runs_dir, refused):
    assert "--runs-dir is empty" in refused("show", "x", "--runs-dir", "")


@pytest.mark.parametrize("args, message", [
    (["run", "{folder}"], "{folder} is a folder, not a file: CONFIG must name an existing YAML file"),
    (["run", "{folder}/missing.yaml"], "No config file at {folder}/missing.yaml"),
    (["sweep", "{folder}"], "{folder} is a folder, not a file: SWEEP.yaml must name"),
    (["export", "some-run", "-o", "{folder}"], "{folder} is a folder, not a file: --out must name a file to write"),
    (["report", "some-run", "-o", "{file}"], "{file} is a file, not a folder: --out must name a folder"),
    (["similarity", "a", "b", "-o", "{file}/sub"], "{file}/sub does not exist and cannot be created, since {file} is"),
    (["train", *TINY, "--data-dir", "{file}"], "{file} is a file, not a folder: --data-dir must name"),
    (["sweep", "{file}", "--data-dir", "{folder}/nowhere"], "No data folder at {folder}/nowhere"),
    (["rtl", *TINY, "--partition", "mapping:{folder}/nowhere.txt"], "No mapping file at {folder}/nowhere.txt"),
])
def test_each_path_argument_is_checked(capsys, runs_dir, tmp_path, a_file, args, message, refused):
    fill = {"folder": str(tmp_path), "file": str(a_file)}
    err = refused(*(a.format(**fill) for a in args))
    assert message.format(**fill) in err, err


# -- --data-dir: the folder named is where the dataset is read, or the run is refused ----
def write_tiny_mnist(folder, n_train=12, n_test=6):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train),
              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test))
    for name, array in zip(IDX_NAMES, arrays):
        array = np.asarray(array, dtype=np.uint8)
        header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        (folder / f"{name}.gz").write_bytes(gzip.compress(header + array.tobytes()))


@pytest.fixture
def mnist_elsewhere(tmp_path, monkeypatch):
    """A copy of 'mnist' where the default search finds it ($TICKETLAB_DATA), and no other."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TICKETLAB_NO_DOWNLOAD", "1")
    monkeypatch.setattr(locate, "DEBIAN_ROOT", tmp_path / "no-debian")
    write_tiny_mnist(tmp_path / "env")
    monkeypatch.setenv("TICKETLAB_DATA", str(tmp_path / "env"))
    return tmp_path / "env"


MNIST = ["--model", "mlp_32", "--dataset", "mnist", "--epochs", "1", "--quiet"]


def test_a_missing_data_dir_is_refused_not_skipped(capsys, runs_dir, tmp_path, mnist_elsewhere, refused):
    assert main(["train", *MNIST]) == 0  # the default search order finds the other copy
    capsys.readouterr()
    err = refused("train", *MNIST, "--set", "seed=1", "--data-dir", str(tmp_path / "nowhere"))
    assert f"No data folder at {tmp_path / 'nowhere'}: --data-dir must name an existing folder" in err
    with pytest.raises(DatasetError, match=f"given as --data-dir .*, {tmp_path / 'nowhere'}, was not found"):
        load_dataset("mnist", data_dir=tmp_path / "nowhere")


def test_a_data_dir_without_the_dataset_is_refused_saying_what_was_looked_for(capsys, runs_dir, tmp_path,
                                                                                mnist_elsewhere, refused):
    empty = tmp_path / "empty"
    empty.mkdir()
    err = refused("train", *MNIST, "--data-dir", str(empty))
    assert "The mnist dataset files were not found: looked for train-images-idx3-ubyte.gz" in err
    assert f"in the folder given as --data-dir (data_dir=...): {empty}, {empty / 'mnist'}" in err
    assert "leave out --data-dir to search $TICKETLAB_DATA" in err


def test_a_data_dir_missing_one_file_says_which(tmp_path, mnist_elsewhere):
    write_tiny_mnist(tmp_path / "given")
    (tmp_path / "given" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"none holds t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", data_dir=tmp_path / "given")


def test_the_default_search_order_stays_without_a_data_dir(tmp_path, mnist_elsewhere):
    write_tiny_mnist(tmp_path / "given", n_train=5)
    assert len(load_dataset("mnist").train) == 12  # $TICKETLAB_DATA
    assert len(load_dataset("mnist", data_dir=tmp_path / "given").train) == 5
