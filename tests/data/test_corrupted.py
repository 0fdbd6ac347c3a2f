"""Corrupted test sets: generated for any image dataset, the official CIFAR-C files when present."""
import numpy as np
import pytest
import torch

from ticketlab.data import Arrays, dataset_info
from ticketlab.data.corrupted import CorruptedTestSets
from ticketlab.data.registry import base_dataset, corrupted_names
from ticketlab.data.corruptions import corrupt_arrays
from ticketlab.core.errors import DatasetError, SpecError, UnknownNameError
from ticketlab.models import build_model
from ticketlab.train.evaluate import evaluate_corrupted


def clean_split(info, n=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    pixels = torch.rand(n, *info.input_shape, generator=g)
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    return Arrays((pixels - mean) / std, torch.arange(n) % info.num_classes)


def test_names():
    assert {"fashion_mnist_c", "cifar10_c", "cifar100_c", "mnist_c"} <= set(corrupted_names())
    assert "mnist1d_c" not in corrupted_names(), "MNIST-1D is not an image dataset"
    assert base_dataset("cifar10_c") == "cifar10"
    with pytest.raises(UnknownNameError, match="Valid corrupted datasets: .*fashion_mnist_c"):
        base_dataset("fashion_mnist")


def test_generated_sets_are_deterministic_and_cover_every_corruption_and_severity(tmp_path):
    info = dataset_info("fashion_mnist")
    test = clean_split(info)
    sets = CorruptedTestSets("fashion_mnist_c", test, info, data_dir=tmp_path, size=8)
    made = list(sets.iterate())
    assert sets.source == "generated" and len(made) == len(sets) == 35
    again = list(CorruptedTestSets("fashion_mnist_c", test, info, data_dir=tmp_path, size=8).iterate())
    for a, b in zip(made, again):
        assert a.arrays.x.shape == (8, 1, 28, 28) and torch.equal(a.arrays.x, b.arrays.x)
        assert torch.equal(a.arrays.y, test.y[:8])
    first = made[0]
    assert torch.equal(first.arrays.x, corrupt_arrays(Arrays(test.x[:8], test.y[:8]), info, first.corruption,
                                                      first.severity).x)
    with pytest.raises(SpecError, match="use fashion_mnist_c"):
        CorruptedTestSets("mnist_c", test, info)
    with pytest.raises(UnknownNameError, match="Unknown corruption 'fog'"):
        CorruptedTestSets("fashion_mnist_c", test, info, corruptions=("fog",))


def write_official(folder, per_severity=4, corruptions=("gaussian_noise", "contrast")):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {}
    for c in corruptions:
        images[c] = rng.integers(0, 256, size=(5 * per_severity, 32, 32, 3), dtype=np.uint8)
        np.save(folder / f"{c}.npy", images[c])
    np.save(folder / "labels.npy", np.tile(np.arange(per_severity) % 10, 5).astype(np.int64))
    return images


def test_official_cifar10_c_files_are_read_when_present(tmp_path):
    info = dataset_info("cifar10")
    images = write_official(tmp_path / "CIFAR-10-C")
    sets = CorruptedTestSets("cifar10_c", clean_split(info, n=4), info, data_dir=tmp_path,
                             corruptions=("gaussian_noise", "contrast"), severities=(2, 5))
    assert sets.source == "official"
    assert len(CorruptedTestSets("cifar10_c", clean_split(info, n=4), info, data_dir=tmp_path)) == 15 * 5, \
        "the benchmark's 15 corruptions by default"
    made = {(s.corruption, s.severity): s.arrays for s in sets.iterate()}
    assert set(made) == {("gaussian_noise", 2), ("gaussian_noise", 5), ("contrast", 2), ("contrast", 5)}
    # Severity 2 is the second block of rows, HWC -> CHW, normalized like the clean set.
    raw = torch.from_numpy(images["contrast"][4:8]).permute(0, 3, 1, 2).float() / 255
    expected = (raw - torch.tensor(info.mean).view(1, 3, 1, 1)) / torch.tensor(info.std).view(1, 3, 1, 1)
    assert torch.allclose(made[("contrast", 2)].x, expected, atol=1e-6)
    assert made[("contrast", 2)].y.tolist() == [0, 1, 2, 3]
    # A smaller evaluation size takes the first images of each severity's block.
    small = CorruptedTestSets("cifar10_c", clean_split(info, n=4), info, data_dir=tmp_path, size=2,
                              corruptions=("contrast",), severities=(3,))
    (only,) = list(small.iterate())
    raw = torch.from_numpy(images["contrast"][8:10]).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(only.arrays.x * torch.tensor(info.std).view(1, 3, 1, 1)
                          + torch.tensor(info.mean).view(1, 3, 1, 1), raw, atol=1e-5)


def test_official_folder_problems_are_clear(tmp_path):
    info = dataset_info("cifar10")
    write_official(tmp_path / "CIFAR-10-C", corruptions=("contrast",))
    sets = CorruptedTestSets("cifar10_c", clean_split(info, n=4), info, data_dir=tmp_path, corruptions=("pixelate",))
    with pytest.raises(DatasetError, match="no pixelate.npy"):
        list(sets.iterate())
    (tmp_path / "CIFAR-10-C" / "contrast.npy").write_bytes(b"\x93NUMPY truncated")
    sets = CorruptedTestSets("cifar10_c", clean_split(info, n=4), info, data_dir=tmp_path, corruptions=("contrast",))
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        list(sets.iterate())
    np.save(tmp_path / "CIFAR-10-C" / "contrast.npy", np.zeros((20, 28, 28, 3), dtype=np.uint8))
    with pytest.raises(DatasetError, match="N x 32 x 32 x 3"):
        list(sets.iterate())


def test_evaluate_corrupted_scores_every_model_on_every_set(tmp_path):
    info = dataset_info("fashion_mnist")
    torch.manual_seed(0)
    models = {"a": build_model("mlp_16", info.input_shape, 10), "b": build_model("mlp_16", info.input_shape, 10)}
    sets = CorruptedTestSets("fashion_mnist_c", clean_split(info, n=20), info, data_dir=tmp_path,
                             corruptions=("brightness", "pixelate"))
    scores = evaluate_corrupted(models, sets, 10)
    assert set(scores) == {"a", "b"}
    for s in scores.values():
        assert s["sets"] == 10 and set(s["by_corruption"]) == {"brightness", "pixelate"}
        assert s["mean_accuracy"] == pytest.approx(sum(s["by_corruption"].values()) / 2)
        assert s["mean_accuracy"] == pytest.approx(sum(s["by_severity"].values()) / 5)
