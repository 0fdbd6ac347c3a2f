"""The real Fashion-MNIST, as the Debian package installs it (skipped where it is absent)."""
from pathlib import Path

import pytest
import torch

from ticketlab.data import load_dataset, locate

DEBIAN = Path("/usr/share/datasets")
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

pytestmark = pytest.mark.skipif(
    not all((DEBIAN / "fashion-mnist" / f).is_file() for f in FILES),
    reason="Fashion-MNIST not installed at /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)")


def test_loads_real_fashion_mnist(monkeypatch):
    monkeypatch.setattr(locate, "DEBIAN_ROOT", DEBIAN)
    splits = load_dataset("fashion_mnist", val_size=5000, download=False)
    assert splits.train.x.shape == (55000, 1, 28, 28) and splits.val.x.shape == (5000, 1, 28, 28)
    assert splits.test.x.shape == (10000, 1, 28, 28)
    assert splits.train.x.dtype == torch.float32 and splits.test.y.dtype == torch.int64
    everything = torch.cat([splits.train.x, splits.val.x])
    assert abs(everything.mean().item()) < 0.01 and abs(everything.std().item() - 1) < 0.01
    labels = torch.cat([splits.train.y, splits.val.y])
    assert torch.equal(labels.bincount(), torch.full((10,), 6000))  # 6000 per class, 10 classes
    assert torch.equal(splits.test.y.bincount(), torch.full((10,), 1000))

