import gzip
import hashlib

import numpy as np
import pytest
import torch

from ticketlab.data import dataset_info, load_dataset
from ticketlab.data.idx import read_idx
from ticketlab.core.errors import DatasetError


@pytest.fixture
def images():
    return np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)


@pytest.mark.parametrize("gz", [True, False])
def test_reads_gz_and_raw(tmp_path, make_idx, images, gz):
    path = tmp_path / "x-idx3-ubyte"
    data = make_idx(images)
    path.write_bytes(gzip.compress(data) if gz else data)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, images)


def test_reads_labels(tmp_path, make_idx):
    path = tmp_path / "labels"
    path.write_bytes(make_idx(np.array([3, 1, 4, 1, 5], dtype=np.uint8)))
    np.testing.assert_array_equal(read_idx(path), [3, 1, 4, 1, 5])


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_file(tmp_path, make_idx, images, gz):
    data = make_idx(images)[:-7]
    path = tmp_path / "short"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DatasetError, match="is truncated.*need.*Delete it"):
        read_idx(path)


def test_file_with_trailing_bytes(tmp_path, make_idx, images):
    path = tmp_path / "long"
    path.write_bytes(make_idx(images) + b"\x00")
    with pytest.raises(DatasetError, match="longer than its header"):
        read_idx(path)


def test_bad_magic(tmp_path, make_idx, images):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02" + make_idx(images)[2:])
    with pytest.raises(DatasetError, match="not an IDX file.*bad magic"):
        read_idx(path)


def test_truncated_gzip(tmp_path, make_idx, images):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(make_idx(images))[:-10])
    with pytest.raises(DatasetError, match="truncated or corrupt gzip"):
        read_idx(path)


def test_corrupt_gzip_crc(tmp_path, make_idx, images):
    blob = bytearray(gzip.compress(make_idx(images)))
    blob[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DatasetError, match="truncated or corrupt gzip"):
        read_idx(path)


def test_content_checksum(tmp_path, make_idx, images):
    path = tmp_path / "x"
    path.write_bytes(make_idx(images))
    read_idx(path, hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(DatasetError, match="not the official one"):
        read_idx(path, "0" * 64)


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_format_from_data_dir(tmp_path, write_mnist, mnist_arrays, gz):
    arrays = mnist_arrays()
    write_mnist(tmp_path / "d", arrays, gz=gz)
    splits = load_dataset("mnist", data_dir=tmp_path / "d")
    info = dataset_info("mnist")
    assert splits.train.x.shape == (12, 1, 28, 28) and splits.test.x.shape == (6, 1, 28, 28)
    assert splits.train.x.dtype == torch.float32 and splits.train.y.dtype == torch.int64
    expected = (arrays[0][:, None].astype(np.float32) / 255 - info.mean[0]) / info.std[0]
    np.testing.assert_allclose(splits.train.x.numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(splits.test.y.numpy(), arrays[3])
    assert splits.val is None


def test_labels_out_of_range(tmp_path, write_mnist, mnist_arrays):
    arrays = list(mnist_arrays())
    arrays[1] = arrays[1].copy()
    arrays[1][0] = 10
    write_mnist(tmp_path, arrays)
    with pytest.raises(DatasetError, match="label 10 outside 0..9"):
        load_dataset("mnist", data_dir=tmp_path)


def test_label_count_mismatch(tmp_path, write_mnist, mnist_arrays):
    arrays = list(mnist_arrays())
    arrays[3] = arrays[3][:-1]
    write_mnist(tmp_path, arrays)
    with pytest.raises(DatasetError, match="5 labels for 6 images"):
        load_dataset("mnist", data_dir=tmp_path)


def test_wrong_image_size(tmp_path, write_mnist, mnist_arrays):
    arrays = list(mnist_arrays())
    arrays[0] = arrays[0][:, :27]
    write_mnist(tmp_path, arrays)
    with pytest.raises(DatasetError, match=r"shape \(12, 27, 28\)"):
        load_dataset("mnist", data_dir=tmp_path)


def test_fashion_files_that_are_not_official_are_rejected(tmp_path, write_mnist, mnist_arrays):
    write_mnist(tmp_path, mnist_arrays())  # well-formed, but not Fashion-MNIST's content
    with pytest.raises(DatasetError, match="not the official one"):
        load_dataset("fashion_mnist", data_dir=tmp_path)

