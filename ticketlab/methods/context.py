"""What a running experiment needs besides its spec: where things are and how to report."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from ..core.progress import Progress

if TYPE_CHECKING:
    from ..store import RunDir


@dataclass
class RunContext:
    device: torch.device
    data_dir: str | os.PathLike | None = None
    progress: Progress = field(default_factory=Progress)
    checkpoint_every: str = "1ep"  # how often training state is saved (at least every epoch)
    restart: bool = False          # ignore an existing checkpoint
    batch: bool = False            # train same-shaped networks of a step together (train.batched)
    record: bool = True            # write the SQLite index (a sweep's workers leave it to the driver)
    compile: str | None = None     # train through torch.compile in this mode (Trainer.compile)
    precision: str = "auto"        # autocast policy (train.device.precision_policy)
    allow_disconnected: bool = False  # train a mask with no input-to-output path (refused otherwise)
    data_budget: int | None = None  # device bytes for the data; over it, data streams from host memory
    tensorboard: str | None = None  # a folder for each unit's live TensorBoard curves (store.scalars); None: off
    # The finished runs that the spec reads, by the names of its `sources()`: the
    # orchestrator runs them first, so a method never starts another run itself.
    sources: dict[str, "RunDir"] = field(default_factory=dict)
