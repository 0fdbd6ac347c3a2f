"""Datasets as tensors that live on the training device."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .info import DatasetInfo


@dataclass
class Arrays:
    x: torch.Tensor  # float32, normalized, (N, *input_shape)
    y: torch.Tensor  # int64 class labels (N,); float32 targets for a regression, (N,) or (N, outputs)

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class DatasetSplits:
    info: DatasetInfo
    train: Arrays  # the training set minus the validation split
    test: Arrays
    val: Arrays | None


def to_arrays(x: np.ndarray, y: np.ndarray, info: DatasetInfo, device: str | torch.device) -> Arrays:
    """Move raw values (uint8 pixels or floats) to `device` first, then normalize there.

    Pixels travel as uint8, a quarter of the bytes of float32, and the arithmetic runs on
    the device. uint8 pixels are scaled to [0, 1] before the per-channel (x - mean) / std.
    """
    raw = torch.from_numpy(np.require(x, requirements=("C", "W"))).to(device)
    values = raw.float().reshape(len(raw), *info.input_shape)
    normalize_(values, info, pixels=raw.dtype == torch.uint8)
    labels = torch.from_numpy(label_array(y, info)).to(device)
    return Arrays(values, labels)


def normalize_(values: torch.Tensor, info: DatasetInfo, *, pixels: bool) -> torch.Tensor:
    """In place, float32 values of shape (N, *input_shape): uint8 pixels scaled to [0, 1]
    first, then the per-channel (x - mean) / std. One arithmetic for data on the device
    and in host memory (`placement`), so both give the same numbers."""
    if pixels:
        values.div_(255.0)
    shape = (1, -1) + (1,) * (len(info.input_shape) - 1)  # broadcast over channel axis
    mean = torch.tensor(info.mean, dtype=torch.float32, device=values.device).reshape(shape)
    std = torch.tensor(info.std, dtype=torch.float32, device=values.device).reshape(shape)
    return values.sub_(mean).div_(std)


def label_array(y: np.ndarray, info: DatasetInfo) -> np.ndarray:
    """The labels as training reads them: int64 classes, or float32 regression targets
    (which an int cast would silently round)."""
    labels = np.asarray(y, dtype=np.float32 if info.task == "regression" else np.int64)
    return labels if labels.flags.writeable else labels.copy()  # torch refuses to share a read-only array
