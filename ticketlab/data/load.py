"""`load_dataset`: from a name to normalized tensors on the training device."""
from __future__ import annotations

import os
from collections.abc import Callable

import torch

from .arrays import DatasetSplits
from .folder import keep_in
from .folder_cache import use_cache_dir
from .formats import read_raw
from .placement import place_dataset
from .registry import dataset_entry
from .split import validation_indices


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, val_size: int = 0,
                 val_seed: int = 0, device: str | torch.device = "cpu",
                 download: bool | None = None, data_budget: int | None = None,
                 note: Callable[[str], None] | None = None,
                 cache_dir: str | os.PathLike | None = None) -> DatasetSplits:
    """Load `name`'s train/test (and optional validation) splits onto `device`.

    Files are looked up as described in `locate`; `download=None` allows a download into
    the user cache unless $TICKETLAB_NO_DOWNLOAD=1. `val_size` examples, chosen by
    `val_seed`, are moved from the training set into `val`. Splits that take more than
    `data_budget` bytes stay in host memory and stream to `device` (`placement`; `note`
    says so); None puts them on the device whatever their size. A `folder:PATH` dataset is
    decoded once into `cache_dir` (default: the user cache, see `folder_cache`) and read from there.
    """
    if cache_dir is not None:
        use_cache_dir(cache_dir)
    entry = dataset_entry(name)
    if cache_dir is not None and entry.format == "folder":
        keep_in(entry, cache_dir)  # it may have been read from another cache before this call
    x_train, y_train, x_test, y_test = read_raw(entry, data_dir, download)
    keep, held_out = validation_indices(len(y_train), val_size, val_seed)
    info = entry.info
    place = place_dataset(info, len(y_train) + len(y_test), device, data_budget, note)
    val = None
    if val_size:  # split the raw arrays, so the device never holds the training set twice
        val = place.arrays(x_train[held_out.numpy()], y_train[held_out.numpy()], info)
        x_train, y_train = x_train[keep.numpy()], y_train[keep.numpy()]
    return DatasetSplits(info, place.arrays(x_train, y_train, info), place.arrays(x_test, y_test, info), val)
