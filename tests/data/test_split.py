"""Validation split: disjoint from train, the requested size, a function of val_seed only."""
import pytest
import torch

from ticketlab.data import load_dataset
from ticketlab.data.split import validation_indices
from ticketlab.core.errors import DatasetError


def test_partition_is_disjoint_and_complete():
    keep, held_out = validation_indices(100, 30, val_seed=3)
    assert len(keep) == 70 and len(held_out) == 30
    assert torch.equal(torch.cat([keep, held_out]).sort().values, torch.arange(100))
    assert torch.equal(keep, keep.sort().values)  # natural order kept


def test_seeded():
    assert torch.equal(validation_indices(100, 30, 3)[1], validation_indices(100, 30, 3)[1])
    assert not torch.equal(validation_indices(100, 30, 3)[1], validation_indices(100, 30, 4)[1])


def test_load_dataset_split_rows_come_from_train():
    full = load_dataset("synthetic")
    splits = load_dataset("synthetic", val_size=100, val_seed=7)
    assert len(splits.train) == 412 and len(splits.val) == 100 and len(splits.test) == 256
    keep, held_out = validation_indices(512, 100, 7)
    assert torch.equal(splits.val.x, full.train.x[held_out]) and torch.equal(splits.val.y, full.train.y[held_out])
    assert torch.equal(splits.train.x, full.train.x[keep])
    assert torch.equal(splits.test.x, full.test.x)  # the test set is never touched


@pytest.mark.parametrize("size", [512, 1000, -1])
def test_impossible_sizes(size):
    with pytest.raises(DatasetError, match=f"val_size={size} is impossible.*between 0 and 511"):
        load_dataset("synthetic", val_size=size)
    with pytest.raises(ValueError):
        load_dataset("synthetic", val_size=size)
