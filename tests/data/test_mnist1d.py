"""MNIST-1D: generated locally, deterministic, equal to the reference generator, cached."""
import numpy as np
import pytest
import torch

from ticketlab.data import dataset_info, load_dataset, locate, mnist1d
from ticketlab.data.registry import dataset_entry


@pytest.fixture(scope="module")
def generated():
    return mnist1d.generate()


def test_shapes_and_classes(generated):
    x_train, y_train, x_test, y_test = generated
    assert x_train.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))


def test_generation_is_deterministic(generated):
    again = mnist1d.generate()
    for a, b in zip(generated, again):
        np.testing.assert_array_equal(a, b)


def test_matches_reference_values(generated):
    # Values produced by the mnist1d package's make_dataset() with its default arguments.
    x_train, y_train, x_test, y_test = generated
    np.testing.assert_allclose(x_train[[0, 1, 3999], [0, 5, 39]], [-0.33200568, 0.79119426, -1.65099287], atol=1e-6)
    np.testing.assert_allclose(x_test[[0, 999], [0, 39]], [-0.07877078, 1.19315183], atol=1e-6)
    assert y_train[:12].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1, 6, 9]
    assert y_test[:12].tolist() == [2, 6, 3, 9, 4, 3, 1, 9, 5, 2, 0, 7]


def test_smoothing_equals_scipy_bit_for_bit():
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.default_rng(0).standard_normal(72)
    assert np.array_equal(mnist1d._smooth(x), ndimage.gaussian_filter(x, 2))


def test_pinned_normalization_matches_train_stats(generated):
    info = dataset_info("mnist1d")
    assert info.mean[0] == pytest.approx(float(generated[0].mean()), abs=1e-4)
    assert info.std[0] == pytest.approx(float(generated[0].std()), abs=1e-4)


def test_load_writes_cache_and_reuses_it(generated, monkeypatch):
    splits = load_dataset("mnist1d", val_size=500)
    assert splits.train.x.shape == (3500, 40) and splits.val.x.shape == (500, 40) and splits.test.x.shape == (1000, 40)
    full = torch.cat([splits.train.x, splits.val.x])
    assert abs(full.mean().item()) < 1e-3 and abs(full.std().item() - 1) < 1e-3
    cache = locate.cache_dir(dataset_entry("mnist1d"))
    assert [p.name for p in cache.iterdir()] == [mnist1d.CACHE_NAME]  # no temporary file left

    monkeypatch.setattr(mnist1d, "generate", lambda: pytest.fail("regenerated despite the cache"))
    again = load_dataset("mnist1d", val_size=500)
    assert torch.equal(again.train.x, splits.train.x) and torch.equal(again.test.y, splits.test.y)


def test_damaged_cache_is_regenerated(generated, monkeypatch):
    cache = locate.cache_dir(dataset_entry("mnist1d"))
    cache.mkdir(parents=True)
    (cache / mnist1d.CACHE_NAME).write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setattr(mnist1d, "generate", lambda: generated)
    x_train = mnist1d.load_mnist1d()[0]
    np.testing.assert_array_equal(x_train, generated[0])
    assert mnist1d._read_cache(cache / mnist1d.CACHE_NAME) is not None  # rewritten whole
