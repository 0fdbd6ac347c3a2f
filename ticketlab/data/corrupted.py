"""Corrupted ("-C") test sets of a dataset: `fashion_mnist_c`, `cifar10_c`, ...

For every image dataset `<name>_c` is its test set under each corruption of
`corruptions.py` at severities 1-5, generated deterministically on the device. For
CIFAR-10 and CIFAR-100 the official files of Hendrycks & Dietterich (2019) are read
instead when present: a `CIFAR-10-C/` (or `CIFAR-100-C/`) folder holding
`<corruption>.npy` (50000 x 32 x 32 x 3 uint8: severities 1-5 in blocks of 10000,
each block the test set in order) and `labels.npy`, looked up where the clean dataset's
files are (--data-dir, $TICKETLAB_DATA, the user cache); then the default set is the
benchmark's 15 corruptions, not the 7 generated ones, so that means compare with papers.

Sets are produced one at a time (`iterate`), so that a full CIFAR-10-C (15 GB as float)
never sits in memory at once; a caller that evaluates several models evaluates all of
them on each set before the next (see `train.evaluate.evaluate_corrupted`).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticketlab.core.errors import DatasetError, SpecError, UnknownNameError

from . import locate
from .arrays import Arrays, to_arrays
from .corruptions import CORRUPTIONS, SEVERITIES, corrupt_arrays
from .info import DatasetInfo
from .registry import SUFFIX, base_dataset, dataset_entry

OFFICIAL_FOLDERS = {"cifar10": "CIFAR-10-C", "cifar100": "CIFAR-100-C"}
# The 15 corruptions of the benchmark (the 4 extra files of the release are not averaged).
OFFICIAL_CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
                        "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
                        "elastic_transform", "pixelate", "jpeg_compression")


@dataclass
class CorruptedSet:
    corruption: str
    severity: int
    arrays: Arrays


class CorruptedTestSets:
    """The corrupted versions of one dataset's test split (see the module docstring)."""

    def __init__(self, name: str, test: Arrays, info: DatasetInfo, *, data_dir: str | os.PathLike | None = None,
                 corruptions: tuple[str, ...] = (), severities=SEVERITIES, size: int = 0, seed: int = 0):
        self.name, self.info, self.seed = name, info, seed
        base = base_dataset(name)
        if base != info.name:
            raise SpecError(f"{name} corrupts {base}'s test set, but the model was evaluated on {info.name}; "
                            f"use {info.name}{SUFFIX}.")
        bad = [s for s in severities if s not in SEVERITIES]
        if bad:
            raise SpecError(f"Corruption severities must be 1 to 5, got {bad}.")
        self.official = official_folder(base, data_dir)
        self.source = "official" if self.official else "generated"
        known = OFFICIAL_CORRUPTIONS if self.official else tuple(CORRUPTIONS)
        for c in corruptions:
            if c not in known:
                raise UnknownNameError("corruption", c, sorted(known))
        self.corruptions = tuple(corruptions) or known
        self.severities = tuple(severities)
        self.size = min(size, len(test)) if size else len(test)
        self.test = Arrays(test.x[:self.size], test.y[:self.size])

    def __len__(self) -> int:
        return len(self.corruptions) * len(self.severities)

    def iterate(self) -> Iterator[CorruptedSet]:
        for corruption in self.corruptions:
            official = self._read_official(corruption) if self.official else None
            for severity in self.severities:
                if official is not None:
                    block = len(official[1]) // len(SEVERITIES)
                    rows = slice((severity - 1) * block, (severity - 1) * block + min(self.size, block))
                    arrays = to_arrays(official[0][rows].transpose(0, 3, 1, 2), np.array(official[1][rows]), self.info,
                                       self.test.x.device)
                else:
                    arrays = corrupt_arrays(self.test, self.info, corruption, severity, self.seed)
                yield CorruptedSet(corruption, severity, arrays)

    def _read_official(self, corruption: str) -> tuple[np.ndarray, np.ndarray]:
        folder = self.official
        path, labels_path = folder / f"{corruption}.npy", folder / "labels.npy"
        if not path.is_file():
            raise DatasetError(f"{folder} holds no {corruption}.npy. Add the official file, or remove the folder "
                               f"to use the generated corruptions instead.")
        try:
            images, labels = np.load(path, mmap_mode="r"), np.load(labels_path, mmap_mode="r")
        except (OSError, ValueError) as err:
            raise DatasetError(f"Could not read {path} or {labels_path} ({err}); the file is corrupt or "
                               "truncated. Download it again.") from err
        side = (*self.info.input_shape[1:], self.info.input_shape[0])  # official files are N x H x W x C
        rows = len(labels) if labels.ndim == 1 else -1
        if images.dtype != np.uint8 or images.shape[1:] != side or len(images) != rows or rows % len(SEVERITIES):
            raise DatasetError(f"{path} holds {images.dtype} images of shape {images.shape} and {labels.shape} "
                               f"labels; the official files hold uint8 images N x {' x '.join(map(str, side))} "
                               f"with N labels, N = 5 severities x the test set size (50000). Download it again.")
        return images, labels


def official_folder(base: str, data_dir) -> Path | None:
    folder = OFFICIAL_FOLDERS.get(base)
    if folder is None:
        return None
    dirs = locate.candidate_dirs(dataset_entry(base), data_dir)
    return locate.first_match(dirs, lambda d: d / folder if (d / folder / "labels.npy").is_file() else None)


def mean_accuracy(results: dict[tuple[str, int], float]) -> dict:
    """The summary a table shows: the mean over every set, per corruption and per severity."""
    by_corruption: dict[str, list[float]] = {}
    by_severity: dict[int, list[float]] = {}
    for (corruption, severity), acc in results.items():
        by_corruption.setdefault(corruption, []).append(acc)
        by_severity.setdefault(severity, []).append(acc)
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {"mean_accuracy": mean(list(results.values())),
            "by_corruption": {c: mean(v) for c, v in by_corruption.items()},
            "by_severity": {str(s): mean(v) for s, v in sorted(by_severity.items())}}

