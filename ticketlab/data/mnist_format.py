"""MNIST, Fashion-MNIST and KMNIST: four IDX files each, found locally or downloaded."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ticketlab.core.errors import DatasetError

from . import locate
from .download import fetch
from .idx import read_idx
from .registry import DatasetEntry, RemoteFile


def _local_path(folder: Path, remote: RemoteFile) -> Path | None:
    """The file in `folder`, gzipped as served or decompressed by the user."""
    for name in (remote.filename, remote.filename.removesuffix(".gz")):
        if (folder / name).is_file():
            return folder / name
    return None


def _complete_set(folder: Path, entry: DatasetEntry) -> list[Path] | None:
    paths = [_local_path(folder, f) for f in entry.files]
    return None if None in paths else paths


def find_or_fetch(entry: DatasetEntry, data_dir, download: bool | None) -> list[Path]:
    """Paths of the four files, in registry order; downloads the missing ones if allowed."""
    # Files an earlier, interrupted download already fetched (each one verified) are kept.
    return locate.find_or_fetch(
        entry, data_dir, download, lambda d: _complete_set(d, entry),
        lambda cache: [_local_path(cache, f) or fetch(entry, f, cache) for f in entry.files])


def _check_pair(entry: DatasetEntry, images: np.ndarray, labels: np.ndarray, where: Path) -> None:
    shape = entry.info.input_shape[1:]
    problem = None
    if images.ndim != 3 or images.shape[1:] != shape or images.dtype != np.uint8:
        problem = f"images have shape {images.shape} and type {images.dtype}, expected (N, {shape[0]}, {shape[1]}) uint8"
    elif labels.shape != (len(images),):
        problem = f"{len(labels)} labels for {len(images)} images"
    elif len(labels) and labels.max() >= entry.info.num_classes:
        problem = f"a label {labels.max()} outside 0..{entry.info.num_classes - 1}"
    if problem:
        raise DatasetError(f"The {entry.name} files in {where} do not fit together: {problem}. "
                           f"They are not the official files; replace them or pass another --data-dir.")


def load_mnist_format(entry: DatasetEntry, data_dir: str | os.PathLike | None,
                      download: bool | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) as uint8 arrays."""
    paths = find_or_fetch(entry, data_dir, download)
    arrays = [read_idx(p, f.content_sha256) for p, f in zip(paths, entry.files)]
    _check_pair(entry, arrays[0], arrays[1], paths[0].parent)
    _check_pair(entry, arrays[2], arrays[3], paths[2].parent)
    return arrays[0], arrays[1], arrays[2], arrays[3]
