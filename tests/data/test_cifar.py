"""CIFAR-10/100 readers on tiny files in the official layout, and their download."""
import dataclasses
import io
import pickle
import tarfile

import numpy as np
import pytest
import torch

from ticketlab.data import dataset_info, load_dataset, locate, registry
from ticketlab.data.cifar import LAYOUTS
from ticketlab.core.errors import DatasetError

PER_BATCH = {"cifar10": 4, "cifar100": 12}


def batch_bytes(data: np.ndarray, labels: list[int], label_key: bytes) -> bytes:
    # The official batches are protocol-2 pickles of dicts with bytes keys.
    batch = {b"batch_label": b"tiny batch", label_key: labels, b"data": data,
             b"filenames": [b"img_%d.png" % i for i in range(len(labels))]}
    return pickle.dumps(batch, protocol=2)


def tiny_batches(name: str, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    layout, classes = LAYOUTS[name], dataset_info(name).num_classes
    rng = np.random.default_rng(seed)
    return {m: (rng.integers(0, 256, (PER_BATCH[name], 3072), dtype=np.uint8),
                rng.integers(0, classes, PER_BATCH[name]).tolist()) for m in layout.members}


def archive_bytes(name: str, batches, extra: dict[str, bytes] | None = None) -> bytes:
    layout = LAYOUTS[name]
    members = {f"{layout.folder}/{m}": batch_bytes(d, l, layout.label_key) for m, (d, l) in batches.items()}
    members.update(extra or {})
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, blob in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return out.getvalue()


def expected_arrays(name: str, batches, members):
    x = np.concatenate([batches[m][0] for m in members]).reshape(-1, 3, 32, 32)
    y = np.concatenate([batches[m][1] for m in members])
    info = dataset_info(name)
    mean, std = np.array(info.mean)[None, :, None, None], np.array(info.std)[None, :, None, None]
    return (x / 255.0 - mean) / std, y


def check_splits(name, splits, batches):
    layout = LAYOUTS[name]
    for arrays, members in ((splits.train, layout.train), (splits.test, layout.test)):
        x, y = expected_arrays(name, batches, members)
        assert arrays.x.shape == (len(y), 3, 32, 32) and arrays.x.dtype == torch.float32
        np.testing.assert_allclose(arrays.x.numpy(), x, atol=1e-5)
        np.testing.assert_array_equal(arrays.y.numpy(), y)


def use_md5(monkeypatch, name, blob, md5_of):
    entry = registry.ENTRIES[name]
    files = (dataclasses.replace(entry.files[0], md5=md5_of(blob)),)
    monkeypatch.setitem(registry.ENTRIES, name, dataclasses.replace(entry, files=files))


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_reads_extracted_folder(tmp_path, name):
    batches, layout = tiny_batches(name), LAYOUTS[name]
    folder = tmp_path / name / layout.folder  # inside the <name>/ subfolder of data_dir
    folder.mkdir(parents=True)
    for m, (d, l) in batches.items():
        (folder / m).write_bytes(batch_bytes(d, l, layout.label_key))
    splits = load_dataset(name, data_dir=tmp_path)
    check_splits(name, splits, batches)
    assert len(splits.train) == PER_BATCH[name] * len(layout.train)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_reads_archive_in_place(tmp_path, monkeypatch, md5_of, name):
    batches = tiny_batches(name)
    blob = archive_bytes(name, batches)
    (tmp_path / registry.ENTRIES[name].files[0].filename).write_bytes(blob)
    use_md5(monkeypatch, name, blob, md5_of)
    check_splits(name, load_dataset(name, data_dir=tmp_path), batches)
    assert sorted(p.name for p in tmp_path.iterdir()) == [registry.ENTRIES[name].files[0].filename]  # nothing extracted


def test_local_archive_with_wrong_md5(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive_bytes("cifar10", tiny_batches("cifar10")))
    with pytest.raises(DatasetError, match="not the official cifar-10-python.tar.gz"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_truncated_archive(tmp_path, monkeypatch, md5_of):
    blob = archive_bytes("cifar10", tiny_batches("cifar10"))[:-200]
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(blob)
    use_md5(monkeypatch, "cifar10", blob, md5_of)
    with pytest.raises(DatasetError, match="truncated, corrupt"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (eval, (f"open({str(marker)!r}, 'w')",))

    folder = tmp_path / LAYOUTS["cifar100"].folder
    folder.mkdir()
    (folder / "train").write_bytes(pickle.dumps({b"data": Exploit()}, protocol=2))
    (folder / "test").write_bytes(b"unused")
    with pytest.raises(DatasetError, match="not a valid CIFAR batch.*refusing to load global .*eval"):
        load_dataset("cifar100", data_dir=tmp_path)
    assert not marker.exists()


def test_batch_with_wrong_contents(tmp_path):
    folder = tmp_path / LAYOUTS["cifar100"].folder
    folder.mkdir()
    (folder / "train").write_bytes(batch_bytes(np.zeros((2, 3072), np.uint8), [0, 100], b"fine_labels"))
    (folder / "test").write_bytes(batch_bytes(np.zeros((2, 3072), np.uint8), [0, 1], b"fine_labels"))
    with pytest.raises(DatasetError, match=r"outside 0..99"):
        load_dataset("cifar100", data_dir=tmp_path)
    (folder / "train").write_bytes(batch_bytes(np.zeros((2, 100), np.uint8), [0, 1], b"fine_labels"))
    with pytest.raises(DatasetError, match=r"\(N, 3072\) uint8"):
        load_dataset("cifar100", data_dir=tmp_path)


@pytest.fixture
def served_cifar10(http_server, monkeypatch, md5_of):
    batches = tiny_batches("cifar10", seed=1)
    blob = archive_bytes("cifar10", batches)
    use_md5(monkeypatch, "cifar10", blob, md5_of)
    http_server.files["/kriz/cifar-10-python.tar.gz"] = blob
    monkeypatch.setenv("TICKETLAB_MIRROR_CIFAR10", http_server.url + "/kriz/")
    monkeypatch.delenv("TICKETLAB_NO_DOWNLOAD")
    http_server.batches = batches
    return http_server


def cache_listing():
    folder = locate.cache_dir(registry.ENTRIES["cifar10"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_extracts_into_cache(served_cifar10):
    check_splits("cifar10", load_dataset("cifar10"), served_cifar10.batches)
    assert cache_listing() == ["cifar-10-batches-py"]  # extracted, archive removed, no leftovers
    served_cifar10.files.clear()
    check_splits("cifar10", load_dataset("cifar10", download=False), served_cifar10.batches)


def test_download_cut_short(served_cifar10):
    served_cifar10.cut_short.add("/kriz/cifar-10-python.tar.gz")
    with pytest.raises(DatasetError, match="cut short"):
        load_dataset("cifar10")
    assert cache_listing() == []


def test_download_checksum_mismatch(served_cifar10, monkeypatch):
    entry = registry.ENTRIES["cifar10"]
    files = (dataclasses.replace(entry.files[0], md5="0" * 32),)
    monkeypatch.setitem(registry.ENTRIES, "cifar10", dataclasses.replace(entry, files=files))
    with pytest.raises(DatasetError, match="has md5 .* but the official file has 0000"):
        load_dataset("cifar10")
    assert cache_listing() == []


def test_download_with_escaping_member_is_refused(served_cifar10, monkeypatch, md5_of, tmp_path):
    blob = archive_bytes("cifar10", served_cifar10.batches, extra={"../../escaped.txt": b"outside"})
    served_cifar10.files["/kriz/cifar-10-python.tar.gz"] = blob
    use_md5(monkeypatch, "cifar10", blob, md5_of)
    with pytest.raises(DatasetError, match="Could not extract"):
        load_dataset("cifar10")
    cache = locate.cache_dir(registry.ENTRIES["cifar10"])
    assert not (cache.parent.parent / "escaped.txt").exists() and not (cache.parent / "escaped.txt").exists()
    assert "cifar-10-batches-py" not in cache_listing()
    assert not [n for n in cache_listing() if n.startswith(".")]
