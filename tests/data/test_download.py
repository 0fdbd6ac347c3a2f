"""The downloader against a loopback HTTP server: good, cut short, wrong checksum, missing."""
import dataclasses
import gzip

import pytest

from ticketlab.data import load_dataset, locate, registry
from ticketlab.data.download import downloads_allowed, fetch
from ticketlab.core.errors import DatasetError


@pytest.fixture
def served_mnist(http_server, monkeypatch, mnist_arrays, make_idx, md5_of):
    """Tiny 'mnist' files on the loopback server, with the registry expecting their md5."""
    names = [f.filename for f in registry.ENTRIES["mnist"].files]
    blobs = [gzip.compress(make_idx(a)) for a in mnist_arrays(n_train=9)]
    files = tuple(registry.RemoteFile(n, md5_of(b)) for n, b in zip(names, blobs))
    monkeypatch.setitem(registry.ENTRIES, "mnist", dataclasses.replace(registry.ENTRIES["mnist"], files=files))
    for name, blob in zip(names, blobs):
        http_server.files[f"/mirror/{name}"] = blob
    monkeypatch.setenv("TICKETLAB_MIRROR_MNIST", http_server.url + "/mirror")
    monkeypatch.delenv("TICKETLAB_NO_DOWNLOAD")
    return http_server


def cache_listing() -> list[str]:
    folder = locate.cache_dir(registry.ENTRIES["mnist"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_download_then_offline_reuse(served_mnist, monkeypatch):
    assert len(load_dataset("mnist").train) == 9
    assert cache_listing() == sorted(f.filename for f in registry.ENTRIES["mnist"].files)
    served_mnist.files.clear()  # the server is gone: the cache alone must do
    assert len(load_dataset("mnist", download=False).train) == 9


def test_only_missing_files_are_fetched(served_mnist):
    load_dataset("mnist")
    (locate.cache_dir(registry.ENTRIES["mnist"]) / "t10k-labels-idx1-ubyte.gz").unlink()
    for path in list(served_mnist.files):
        if "t10k-labels" not in path:
            del served_mnist.files[path]
    assert len(load_dataset("mnist").test) == 6


def test_cut_short_leaves_nothing(served_mnist):
    served_mnist.cut_short.add("/mirror/train-images-idx3-ubyte.gz")
    with pytest.raises(DatasetError, match="cut short: .* bytes arrived") as caught:
        load_dataset("mnist")
    assert "train-images-idx3-ubyte.gz" in str(caught.value) and "nothing was kept" in str(caught.value)
    assert "train-images-idx3-ubyte.gz" not in cache_listing()
    assert not [n for n in cache_listing() if n.endswith(".part")]


def test_checksum_mismatch_leaves_nothing(served_mnist):
    served_mnist.files["/mirror/train-images-idx3-ubyte.gz"] += b"tampered"
    with pytest.raises(DatasetError, match="md5.*official file has") as caught:
        load_dataset("mnist")
    assert "TICKETLAB_MIRROR_MNIST" in str(caught.value)
    assert "train-images-idx3-ubyte.gz" not in cache_listing()
    assert not [n for n in cache_listing() if n.endswith(".part")]


def test_http_error(served_mnist):
    del served_mnist.files["/mirror/t10k-images-idx3-ubyte.gz"]
    with pytest.raises(DatasetError, match="HTTP 404"):
        load_dataset("mnist")
    assert not [n for n in cache_listing() if n.endswith(".part")]


def test_refused_connection(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TICKETLAB_MIRROR_MNIST", f"http://127.0.0.1:{port}/")
    entry = registry.ENTRIES["mnist"]
    with pytest.raises(DatasetError, match="failed.*--data-dir"):
        fetch(entry, entry.files[0], tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == []


@pytest.mark.parametrize("env, arg, allowed", [
    (None, None, True), ("1", None, False), ("0", None, True), ("1", True, True), (None, False, False)])
def test_downloads_allowed(monkeypatch, env, arg, allowed):
    monkeypatch.delenv("TICKETLAB_NO_DOWNLOAD")
    if env is not None:
        monkeypatch.setenv("TICKETLAB_NO_DOWNLOAD", env)
    assert downloads_allowed(arg) is allowed
