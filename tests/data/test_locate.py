"""Look-up order: data_dir, then $TICKETLAB_DATA, then the Debian folder, then the user cache."""
import dataclasses

import pytest

from ticketlab.data import load_dataset, locate, registry
from ticketlab.data.registry import dataset_entry
from ticketlab.core.errors import DatasetError


@pytest.fixture
def places(tmp_path, monkeypatch, write_mnist, mnist_arrays):
    """Three places, each holding 'mnist' files told apart by their number of examples."""
    folders = {
        "data_dir": tmp_path / "given",
        "env": tmp_path / "env",
        "cache": locate.user_cache_root() / "mnist",
    }
    for n, folder in enumerate(folders.values(), start=1):
        write_mnist(folder, mnist_arrays(n_train=n))
    monkeypatch.setenv("TICKETLAB_DATA", str(folders["env"]))
    return folders


def n_train(**kwargs) -> int:
    return len(load_dataset("mnist", **kwargs).train)


def test_data_dir_beats_env_beats_cache(places, monkeypatch):
    folders = places
    assert n_train(data_dir=folders["data_dir"]) == 1
    assert n_train() == 2
    monkeypatch.delenv("TICKETLAB_DATA")
    assert n_train() == 3


def test_subfolder_named_after_dataset(tmp_path, monkeypatch, write_mnist, mnist_arrays):
    write_mnist(tmp_path / "all" / "mnist", mnist_arrays(n_train=7))
    assert len(load_dataset("mnist", data_dir=tmp_path / "all").train) == 7
    monkeypatch.setenv("TICKETLAB_DATA", str(tmp_path / "all"))
    assert len(load_dataset("mnist").train) == 7


def test_an_incomplete_named_folder_is_refused_not_skipped(places):
    """A folder the user named must hold the dataset: no silent fallback to another copy."""
    folders = places
    (folders["data_dir"] / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="none holds t10k-labels-idx1-ubyte.gz"):
        n_train(data_dir=folders["data_dir"])
    assert n_train() == 2  # named by no one, it is skipped for the next copy in the search order


def test_candidate_order(tmp_path, monkeypatch):
    entry = dataset_entry("fashion_mnist")
    debian = locate.DEBIAN_ROOT / entry.debian_dir
    monkeypatch.setenv("TICKETLAB_DATA", str(tmp_path / "env"))
    dirs = locate.candidate_dirs(entry, tmp_path / "given")
    assert dirs.index(tmp_path / "given") < dirs.index(tmp_path / "env") < dirs.index(debian) \
        < dirs.index(locate.cache_dir(entry))
    assert dirs[-1] == locate.cache_dir(entry)


def test_debian_folder_is_used(tmp_path, monkeypatch, write_mnist, mnist_arrays):
    # Point 'mnist' at a Debian folder name, so tiny files stand in for a package.
    entry = dataclasses.replace(registry.ENTRIES["mnist"], debian_dir="mnist-pkg", debian_package="dataset-mnist")
    monkeypatch.setitem(registry.ENTRIES, "mnist", entry)
    write_mnist(locate.DEBIAN_ROOT / "mnist-pkg", mnist_arrays(n_train=4))
    write_mnist(locate.cache_dir(entry), mnist_arrays(n_train=5))
    assert n_train() == 4  # Debian beats the cache
    write_mnist(tmp_path / "env", mnist_arrays(n_train=6))
    monkeypatch.setenv("TICKETLAB_DATA", str(tmp_path / "env"))
    assert n_train() == 6  # the environment beats Debian


def test_cache_honours_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert locate.cache_dir(dataset_entry("cifar10")) == tmp_path / "elsewhere" / "ticketlab" / "cifar10"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert locate.user_cache_root().parts[-2:] == (".cache", "ticketlab")


def test_missing_files_explain_where_to_put_them(tmp_path):
    with pytest.raises(DatasetError) as caught:
        load_dataset("fashion_mnist", data_dir=tmp_path / "nowhere")
    message = str(caught.value)
    for hint in ("not found", str(tmp_path / "nowhere"), "--data-dir", "$TICKETLAB_DATA", "dataset-fashion-mnist",
                 "train-images-idx3-ubyte.gz", str(locate.DEBIAN_ROOT / "fashion-mnist"), "TICKETLAB_NO_DOWNLOAD"):
        assert hint in message, hint


def test_download_false_forbids_even_if_env_allows(tmp_path, monkeypatch):
    monkeypatch.delenv("TICKETLAB_NO_DOWNLOAD")
    with pytest.raises(DatasetError, match="downloads are off"):
        load_dataset("kmnist", download=False)
