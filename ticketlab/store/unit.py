"""A unit of work inside a run directory: its own checkpoint, tensors and `result.json`.

A run is a unit; so is each level of an IMP run and each control beside it. A unit is
finished exactly when its `result.json` exists (written last, atomically), so an
interrupted run redoes only its unfinished units, each from its own last checkpoint.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.atomic import make_dir, remove, write_json
from ..core.errors import CheckpointError

if TYPE_CHECKING:  # torch loads only when tensors are read or written
    import torch

    from ..sparse import Mask


def level_name(level: int) -> str:
    return f"level_{level:02d}"


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
        return (self.path / "result.json").exists()

    def result(self) -> dict:
        try:
            return json.loads((self.path / "result.json").read_text())
        except (OSError, ValueError) as err:
            raise CheckpointError(f"Cannot read {self.path / 'result.json'} ({err}).") from None

    def finish(self, result: dict) -> None:
        """Record the result (this marks the unit finished) and drop the training checkpoint."""
        write_json(self.path / "result.json", result)
        remove(self.checkpoint_path)

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text())

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
            write_json(self.path / "history.json", state.get("history", []))

    def load_checkpoint(self, name: str = "checkpoint.pt") -> dict | None:
        from .checkpoint import load_checkpoint
        path = self.path / name
        return load_checkpoint(path) if path.exists() else None

    def save_tensors(self, name: str, tensors: dict[str, "torch.Tensor"]) -> None:
        from ..sparse import save_tensors
        save_tensors(self.path / name, tensors)

    def load_tensors(self, name: str, device: "str | torch.device" = "cpu") -> dict[str, "torch.Tensor"]:
        from ..sparse import load_tensors
        return load_tensors(self.path / name, device)

    def save_mask(self, name: str, mask: "Mask") -> None:
        from ..sparse import save_mask
        save_mask(self.path / name, mask)

    def load_mask(self, name: str, device: "str | torch.device" = "cpu") -> "Mask":
        from ..sparse import load_mask
        return load_mask(self.path / name, device)
