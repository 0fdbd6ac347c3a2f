"""`load_dataset`: from a name to normalized tensors on the training device."""
from __future__ import annotations

import os

import torch

from .arrays import DatasetSplits, to_arrays
from .formats import read_raw
from .registry import dataset_entry
from .split import validation_indices


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, val_size: int = 0,
                 val_seed: int = 0, device: str | torch.device = "cpu",
                 download: bool | None = None) -> DatasetSplits:
    """Load `name`'s train/test (and optional validation) splits onto `device`.

    Files are looked up as described in `locate`; `download=None` allows a download into
    the user cache unless $TICKETLAB_NO_DOWNLOAD=1. `val_size` examples, chosen by
    `val_seed`, are moved from the training set into `val`.
    """
    entry = dataset_entry(name)
    x_train, y_train, x_test, y_test = read_raw(entry, data_dir, download)
    keep, held_out = validation_indices(len(y_train), val_size, val_seed)
    info = entry.info
    val = None
    if val_size:  # split the raw arrays, so the device never holds the training set twice
        val = to_arrays(x_train[held_out.numpy()], y_train[held_out.numpy()], info, device)
        x_train, y_train = x_train[keep.numpy()], y_train[keep.numpy()]
    return DatasetSplits(info, to_arrays(x_train, y_train, info, device),
                         to_arrays(x_test, y_test, info, device), val)
