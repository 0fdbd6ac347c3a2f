"""Where a dataset lives while a model trains on it: on the training device, or, when its
splits do not fit the device-data budget, in host memory, streamed batch by batch.

`decide_placement` is the one decision. Data that fits goes through `to_arrays` exactly as
without a budget; data that does not stays on the host as `HostArrays` (pinned when the
device is CUDA, so that copies to it are asynchronous), which `DeviceLoader` streams.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .arrays import Arrays, label_array, normalize_, to_arrays
from .budget import format_size
from .info import DatasetInfo

_FLOAT_BYTES, _LABEL_BYTES = 4, 8  # normalized float32 inputs, int64 labels (`to_arrays`)


@dataclass
class HostArrays(Arrays):
    """Arrays kept in host memory for a model on another (or the same, CPU) device: a
    loader gathers each batch here and copies it to the device (`data.streaming`)."""


@dataclass(frozen=True)
class Placement:
    device: torch.device  # the training device
    streams: bool         # the data stays in host memory and streams to `device`
    nbytes: int           # what the splits take once normalized, wherever they live
    budget: int | None    # the device-data budget in bytes, None for no limit

    @property
    def pinned(self) -> bool:
        return self.streams and self.device.type == "cuda"

    def arrays(self, x: np.ndarray, y: np.ndarray, info: DatasetInfo) -> Arrays:
        """One split, normalized, where this placement puts it."""
        if not self.streams:
            return to_arrays(x, y, info, self.device)
        return host_arrays(x, y, info, pin=self.pinned)

    def note(self, name: str) -> str:
        pinned = " (pinned)" if self.pinned else ""
        return (f"{name}: the data takes {format_size(self.nbytes)}, over the device-data budget of "
                f"{format_size(self.budget)}: it stays in host memory{pinned} and streams to {self.device} "
                f"batch by batch")


def resident_bytes(info: DatasetInfo, examples: int) -> int:
    """The bytes of `examples` normalized examples with their labels."""
    return examples * (math.prod(info.input_shape) * _FLOAT_BYTES + _LABEL_BYTES)


def decide_placement(nbytes: int, device: str | torch.device, data_budget: int | None) -> Placement:
    """On the device unless the data exceeds a budget; no budget is today's behaviour."""
    streams = data_budget is not None and nbytes > data_budget
    return Placement(torch.device(device), streams, nbytes, data_budget)


def place_dataset(info: DatasetInfo, examples: int, device: str | torch.device, data_budget: int | None,
                  note: Callable[[str], None] | None = None) -> Placement:
    """The placement of a dataset of `examples` (all splits), said through `note` when it
    streams (the user asked for a budget and should see where it sent the data)."""
    placement = decide_placement(resident_bytes(info, examples), device, data_budget)
    if placement.streams and note is not None:
        note(placement.note(info.name))
    return placement


def host_arrays(x: np.ndarray, y: np.ndarray, info: DatasetInfo, *, pin: bool) -> HostArrays:
    """The reader's arrays, normalized in host memory with the arithmetic of `to_arrays`.

    A writable float32 array is normalized where the reader left it (no copy) unless it
    must be pinned; anything else is cast once, straight into the (pinned) buffer."""
    x = np.asarray(x)
    shape = (len(x), *info.input_shape)
    if not pin and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable:
        values = torch.from_numpy(x).reshape(shape)
    else:  # pinned memory comes from torch's host allocator, which rounds a block up to a power of two
        values = torch.empty(shape, dtype=torch.float32, pin_memory=pin)
        values.numpy().reshape(x.shape)[...] = x
    normalize_(values, info, pixels=x.dtype == np.uint8)
    return HostArrays(values, host_labels(y, info, pin=pin))


def host_labels(y: np.ndarray, info: DatasetInfo, *, pin: bool) -> torch.Tensor:
    labels = label_array(y, info)  # int64 classes, or float32 regression targets (never rounded)
    if not pin:
        return torch.from_numpy(labels)
    out = torch.empty(labels.shape, dtype=torch.from_numpy(labels[:0]).dtype, pin_memory=True)
    out.numpy()[...] = labels
    return out
