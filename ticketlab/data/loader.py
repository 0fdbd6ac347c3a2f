"""Batches from a dataset on the training device, or streamed to it from host memory.

The order of an epoch is one permutation drawn from a generator seeded by (seed, epoch),
and a batch's augmentation from one seeded by (seed, epoch, step). Nothing carries over
between epochs or steps, so resuming at any (epoch, step) replays exactly the batches an
uninterrupted run would have seen. Data kept in host memory (`placement.HostArrays`, when
it does not fit the device-data budget) takes the same rows in the same order and is
augmented on the device as well: only how the rows reach the device differs
(`streaming`), so the batches are the same element for element.
"""
from __future__ import annotations

import hashlib
import math
import struct
from typing import Iterator

import torch

from .arrays import Arrays
from .augment import random_crop_flip
from .placement import HostArrays
from .streaming import stream_batches

_ORDER, _AUGMENT = 0, 1  # separate random streams for shuffling and augmentation


def seeded_generator(*key: int) -> torch.Generator:
    """A CPU generator that is a pure function of `key` (hashed, so nearby keys are unrelated)."""
    digest = hashlib.blake2b(struct.pack(f"<{len(key)}q", *key), digest_size=8).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest, "little") & (2**63 - 1))


class DeviceLoader:
    """Batches from one Arrays on the training device, or streamed to `device` (default:
    where the arrays are) when they are `HostArrays`."""

    def __init__(self, arrays: Arrays, batch_size: int, *, seed: int, shuffle: bool = True,
                 augment: bool = False, crop_padding: int = 0, flip: bool = False,
                 device: str | torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if crop_padding < 0:
            raise ValueError(f"crop_padding must be at least 0, got {crop_padding}")
        if augment and (crop_padding or flip) and arrays.x.dim() != 4:
            raise ValueError(f"crop and flip need images (N, C, H, W), but this dataset has inputs of "
                             f"shape {tuple(arrays.x.shape[1:])}; turn augmentation off")
        self.arrays = arrays
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.crop_padding = crop_padding if augment else 0
        self.flip = flip and augment
        self.steps_per_epoch = math.ceil(len(arrays) / batch_size)
        self.streams = isinstance(arrays, HostArrays)
        self.device = arrays.x.device if device is None else torch.device(device)

    def __len__(self) -> int:
        return self.steps_per_epoch

    def order(self, epoch: int) -> torch.Tensor | None:
        """This epoch's permutation where the arrays are (the host, for streamed data), or None
        for the natural order."""
        if not self.shuffle:
            return None
        perm = torch.randperm(len(self.arrays), generator=seeded_generator(self.seed, epoch, _ORDER))
        return perm.to(self.arrays.x.device)

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(x, y) batches of `epoch` from `start_step` on; the last batch may be smaller."""
        if not 0 <= start_step <= self.steps_per_epoch:
            raise ValueError(f"start_step must be in 0..{self.steps_per_epoch}, got {start_step}")
        return self._batches(epoch, start_step)

    def _batches(self, epoch: int, start_step: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order(epoch)
        steps = range(start_step, self.steps_per_epoch)
        rows = (self._rows(order, step) for step in steps)
        x, y = self.arrays.x, self.arrays.y
        batches = stream_batches(self.arrays, rows, self.device, self.batch_size) if self.streams \
            else ((x[r], y[r]) for r in rows)
        for step, (xb, yb) in zip(steps, batches):
            if self.crop_padding or self.flip:  # on the device, after the copy: as for device-resident data
                rng = seeded_generator(self.seed, epoch, step, _AUGMENT)
                xb = random_crop_flip(xb, rng, crop_padding=self.crop_padding, flip=self.flip)
            yield xb, yb

    def _rows(self, order: torch.Tensor | None, step: int) -> slice | torch.Tensor:
        """The rows of batch `step`: a window of the natural order, or of the permutation."""
        window = slice(step * self.batch_size, (step + 1) * self.batch_size)
        return window if order is None else order[window]
