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
    values = raw.float().div_(255.0) if raw.dtype == torch.uint8 else raw.float()
    values = values.reshape(len(values), *info.input_shape)
    shape = (1, -1) + (1,) * (len(info.input_shape) - 1)  # broadcast over channel axis
    mean = torch.tensor(info.mean, dtype=torch.float32, device=values.device).reshape(shape)
    std = torch.tensor(info.std, dtype=torch.float32, device=values.device).reshape(shape)
    values.sub_(mean).div_(std)
    labels = torch.from_numpy(label_array(y, info)).to(device)
    return Arrays(values, labels)


def label_array(y: np.ndarray, info: DatasetInfo) -> np.ndarray:
    """The labels as training reads them: int64 classes, or float32 regression targets
    (which an int cast would silently round)."""
    labels = np.asarray(y, dtype=np.float32 if info.task == "regression" else np.int64)
    return labels if labels.flags.writeable else labels.copy()  # torch refuses to share a read-only array
