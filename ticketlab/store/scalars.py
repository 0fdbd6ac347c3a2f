"""Live training curves for TensorBoard: one event folder per unit, `DIR/<run_id>/<unit path>`
(`DIR/imp-abc/level_03/reinit`; a run that is its own unit writes in `DIR/<run_id>`).

Off unless a folder is given (`--tensorboard DIR`, a config file's `tensorboard:` key,
$TICKETLAB_TENSORBOARD). Only then is tensorboard imported, through
`torch.utils.tensorboard`, here and nowhere else: a run without curves needs neither the
package nor its import time. Where curves go changes nothing a run computes, so it is
never part of a spec.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..core.errors import TicketlabError
from ..core.ranks import is_writer
from .tensors import run_folder

TENSORBOARD_ENV = "TICKETLAB_TENSORBOARD"


def require_tensorboard(folder: str | os.PathLike) -> None:
    """Refuse, before any training, curves asked for without the package that writes them."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise TicketlabError("--tensorboard needs the tensorboard package: pip install 'ticketlab[tensorboard]' "
                             f"(curves were asked for in {os.fspath(folder)!r}, and it is not installed; or leave "
                             f"--tensorboard, the config key 'tensorboard' and ${TENSORBOARD_ENV} unset to train "
                             "without curves).") from None


def curves_folder(root: str | os.PathLike, unit_path: Path) -> Path:
    """Where one unit's event files go: the run's id, then the unit's path inside its run."""
    run = run_folder(unit_path)
    return Path(root) / run.name / unit_path.relative_to(run)


class ScalarLog:
    """One unit's curves. `root` None (or a process that is not the writing rank of a DDP
    job) writes nothing and imports nothing. The writer opens on the first scalar and is
    flushed at every write, so TensorBoard shows a unit while it trains."""

    def __init__(self, root: str | os.PathLike | None, unit_path: str | os.PathLike):
        self.on = root is not None and is_writer()
        self.folder = curves_folder(root, Path(unit_path)) if self.on else None
        self.start = 0
        self._writer = None

    def begin(self, step: int) -> None:
        """Training (re)starts at `step`. What an earlier attempt wrote at this step or later
        (before it was cut short, past its last checkpoint) is hidden by TensorBoard once
        this attempt writes (`purge_step`), so every step shows once."""
        self.start = step

    def write(self, scalars: Mapping[str, float], step: int) -> None:
        if not self.on:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=str(self.folder), purge_step=self.start)
        for tag, value in scalars.items():
            self._writer.add_scalar(tag, float(value), global_step=step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
