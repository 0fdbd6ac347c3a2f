"""A unit of work inside a run directory: its own checkpoint, tensors and `result.json`.

A run is a unit; so is each level of an IMP run and each control beside it. A unit is
finished exactly when its `result.json` is in place and whole (written last,
atomically), so an interrupted run redoes only its unfinished units, each from its own
last checkpoint. A `result.json` damaged after it was written leaves its unit to be
computed again (`RunDir.recover` moves it aside and says so).

Tensor files carry a checksum (`store/tensors.py`), as checkpoints do
(`store/checkpoint.py`): a damaged file is reported, never used as if whole.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.atomic import make_dir, remove, write_json
from ..core.errors import CheckpointError
from .tensors import run_folder

PENDING_CHECKPOINT = "checkpoint.next.pt"  # a batch's commit in progress (`group_checkpoint.py`)

if TYPE_CHECKING:  # torch loads only when tensors are read or written
    import torch

    from ..sparse import Mask


def level_name(level: int) -> str:
    return f"level_{level:02d}"


def read_result(path: Path) -> dict | None:
    """The result file at `path` when it is whole (a JSON object); None when missing or damaged."""
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


class Unit:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def child(self, name: str) -> "Unit":
        unit = Unit(self.path / name)
        make_dir(unit.path)
        return unit

    def level(self, level: int) -> "Unit":
        """The unit of one level of a levelled method (IMP's, RTL's): `level_LL/`."""
        return self.child(level_name(level))

    # -- results ------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return read_result(self.path / "result.json") is not None

    def result(self) -> dict:
        path = self.path / "result.json"
        result = read_result(path)
        if result is None:
            if not path.exists():
                raise CheckpointError(f"{self.path} has no result.json: the unit has not finished. Run the "
                                      "same command again to finish it.")
            run = run_folder(self.path)
            todo = ("Run the same command again" if run == self.path else
                    f"Delete {run / 'result.json'} (the run's own, which marks it finished), then run the run's "
                    f"spec again (`ticketlab run {run / 'spec.yaml'}`)")
            raise CheckpointError(f"The result file {path} is corrupt (not a whole JSON object: changed or cut "
                                  f"short since it was written). {todo}: the damaged file is moved aside and that "
                                  "unit is computed again, the run's other finished units reused.")
        return result

    @property
    def pending_checkpoint_path(self) -> Path:
        """This unit's part of a batch's commit in progress, not yet renamed."""
        return self.path / PENDING_CHECKPOINT

    def finish(self, result: dict) -> None:
        """Record the result (this marks the unit finished) and drop the training checkpoint
        (and a batch commit's pending state)."""
        write_json(self.path / "result.json", result)
        remove(self.checkpoint_path, self.pending_checkpoint_path)

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        path = self.path / name
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as err:
            reason = getattr(err, "strerror", None) or err
            raise CheckpointError(f"Cannot read {path} ({reason}): it is missing or corrupt. Move the run directory "
                                  f"{run_folder(self.path)} away (or restore the file from a backup) and run the "
                                  "same command again.") from None

    def has(self, name: str) -> bool:
        return (self.path / name).exists()

    # -- checkpoints and tensors --------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pt"

    def save_checkpoint(self, state: dict, name: str = "checkpoint.pt") -> None:
        from .checkpoint import save_checkpoint
        save_checkpoint(self.path / name, state)
        if name == "checkpoint.pt":
            self.save_checkpoint_history(state)

    def save_checkpoint_history(self, state: dict) -> None:
        """history.json as of the checkpoint: what the unit had evaluated when it was saved."""
        write_json(self.path / "history.json", state.get("history", []))

    def load_checkpoint(self, name: str = "checkpoint.pt") -> dict | None:
        """The unit's training checkpoint, None when it has none; another saved state (IMP's
        `rewind.pt`) is needed where it is asked for, so its absence is an error."""
        from .checkpoint import load_checkpoint
        path = self.path / name
        if path.exists():
            return load_checkpoint(path)
        if name == "checkpoint.pt":
            return None
        raise CheckpointError(f"{path} is missing, and the run needs the training state it holds. Move the run "
                              f"directory {run_folder(self.path)} away and run the same command again to compute "
                              "the run from scratch.")

    def save_tensors(self, name: str, tensors: dict[str, "torch.Tensor"]) -> None:
        from .tensors import save_tensors
        save_tensors(self.path / name, tensors)

    def load_tensors(self, name: str, device: "str | torch.device" = "cpu", **checks) -> dict[str, "torch.Tensor"]:
        """The tensors of a file this unit holds, once its checksum holds; `checks` go to
        `sparse.load_tensors` (the names, dtypes and shapes expected)."""
        from ..sparse import load_tensors
        from .tensors import verify
        verify(self.path / name)
        return load_tensors(self.path / name, device, **checks)

    def save_mask(self, name: str, mask: "Mask") -> None:
        from .tensors import save_tensors
        save_tensors(self.path / name, dict(mask.items()), metadata={"kind": "ticketlab-mask"})

    def load_mask(self, name: str, device: "str | torch.device" = "cpu", **checks) -> "Mask":
        from ..sparse import load_mask
        from .tensors import verify
        verify(self.path / name)
        return load_mask(self.path / name, device, **checks)
