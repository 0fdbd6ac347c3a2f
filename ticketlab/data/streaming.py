"""Batches of host-resident data on their way to the training device.

Each batch is gathered on the host and copied to the device. On CUDA the gather lands in
one of two pinned staging buffers and the copy runs on a side stream with
non_blocking=True, one batch ahead: while the model computes on batch k, batch k+1 is
already on its way. Elsewhere (the CPU) a plain gather is the batch.

What is gathered, and in which order, is the loader's (`DeviceLoader`): this module only
moves rows, so the batches equal those of the device-resident path element for element.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from .arrays import Arrays

Rows = slice | torch.Tensor  # a window of the natural order, or indices into the split


def stream_batches(arrays: Arrays, rows: Iterable[Rows], device: torch.device,
                   batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(x, y) on `device` for each item of `rows`, in order."""
    if device.type != "cuda":
        for r in rows:
            yield gather(arrays.x, r).to(device), gather(arrays.y, r).to(device)
        return
    yield from _prefetched(arrays, rows, device, batch_size)


def gather(values: torch.Tensor, rows: Rows) -> torch.Tensor:
    return values[rows] if isinstance(rows, slice) else values.index_select(0, rows)


class _Staging:
    """A pinned host buffer for one batch, and the event of the last copy that read it."""

    def __init__(self, arrays: Arrays, batch_size: int):
        self.x = torch.empty((batch_size, *arrays.x.shape[1:]), dtype=arrays.x.dtype, pin_memory=True)
        self.y = torch.empty((batch_size, *arrays.y.shape[1:]), dtype=arrays.y.dtype, pin_memory=True)  # (N, D) targets too
        self.copied: torch.cuda.Event | None = None

    def send(self, arrays: Arrays, rows: Rows, side: torch.cuda.Stream, device: torch.device):
        """Gather `rows` here and start their copy to `device` on `side`."""
        if self.copied is not None:
            self.copied.synchronize()  # the copy that last read this buffer has landed: it may be overwritten
        n = len(arrays.y[rows]) if isinstance(rows, slice) else len(rows)
        x, y = self.x[:n], self.y[:n]
        if isinstance(rows, slice):
            x.copy_(arrays.x[rows])
            y.copy_(arrays.y[rows])
        else:
            torch.index_select(arrays.x, 0, rows, out=x)
            torch.index_select(arrays.y, 0, rows, out=y)
        with torch.cuda.stream(side):
            xd, yd = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            self.copied = torch.cuda.Event()
            self.copied.record(side)
        return xd, yd, self.copied


def _receive(sent, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A sent batch, usable on the current stream: it waits for the copy, and the tensors'
    memory is not reused before the work queued on it is done (record_stream)."""
    xd, yd, copied = sent
    current = torch.cuda.current_stream(device)
    current.wait_event(copied)
    xd.record_stream(current)
    yd.record_stream(current)
    return xd, yd


def _prefetched(arrays: Arrays, rows: Iterable[Rows], device: torch.device,
                batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    side = torch.cuda.Stream(device)
    staging = (_Staging(arrays, batch_size), _Staging(arrays, batch_size))
    pending = None
    for k, r in enumerate(rows):
        sent = staging[k % 2].send(arrays, r, side, device)  # batch k is sent before batch k-1 is handed over
        if pending is not None:
            yield _receive(pending, device)
        pending = sent
    if pending is not None:
        yield _receive(pending, device)
