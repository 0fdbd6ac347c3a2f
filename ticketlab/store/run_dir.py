"""One experiment's directory: `runs/<kind>-<hash>/`.

Layout: `spec.yaml` (the full spec, for people), `spec.json` (its canonical form, what
was hashed), `status.json`, `checkpoint.pt` (latest training state, while running),
`history.json` (evaluations so far), tensor files (`*.safetensors`), and `result.json`,
written last: a run is finished exactly when its `result.json` exists.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..atomic import write_json, write_text
from ..errors import CheckpointError, SpecError
from ..spec import Spec
from .lock import RunLock

if TYPE_CHECKING:  # torch loads only when tensors are read or written
    import torch

    from ..sparse import Mask


class RunDir:
    def __init__(self, path: str | os.PathLike, spec: Spec):
        self.path = Path(path)
        self.spec = spec
        self.lock = RunLock(self.path / ".lock")

    @property
    def run_id(self) -> str:
        return self.path.name

    def create(self) -> None:
        """Make the directory and record the spec (checking a hash collision never mixes runs)."""
        self.path.mkdir(parents=True, exist_ok=True)
        canonical = {"kind": self.spec.kind, **self.spec.canonical()}
        existing = self.path / "spec.json"
        if existing.exists():
            try:
                stored = json.loads(existing.read_text())
            except json.JSONDecodeError:
                stored = None
            if stored is not None and stored != canonical:
                raise SpecError(f"{self.path} holds a different spec than the one asked for; "
                                "move the directory away (it is not this experiment's).")
        write_json(existing, canonical)
        write_text(self.path / "spec.yaml", yaml.safe_dump(self.spec.to_dict(), sort_keys=False))

    # -- status -------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return (self.path / "result.json").exists()

    def status(self) -> str:
        if self.finished:
            return "finished"
        try:
            return json.loads((self.path / "status.json").read_text())["status"]
        except (OSError, ValueError, KeyError):
            return "new"

    def set_status(self, status: str, **extra: Any) -> None:
        write_json(self.path / "status.json", {"status": status, "pid": os.getpid(),
                                               "host": socket.gethostname(), "time": time.time(), **extra})

    # -- results ------------------------------------------------------------------------
    def result(self) -> dict:
        try:
            return json.loads((self.path / "result.json").read_text())
        except (OSError, ValueError) as err:
            raise CheckpointError(f"Cannot read {self.path / 'result.json'} ({err}).") from None

    def finish(self, result: dict) -> None:
        self.checkpoint_path.unlink(missing_ok=True)
        write_json(self.path / "result.json", result)
        self.set_status("finished")

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        return json.loads((self.path / name).read_text())

    # -- checkpoints and tensors --------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.pt"

    def save_checkpoint(self, state: dict) -> None:
        from ..train.checkpoint import save_checkpoint
        save_checkpoint(self.checkpoint_path, state)
        write_json(self.path / "history.json", state.get("history", []))

    def load_checkpoint(self) -> dict | None:
        from ..train.checkpoint import load_checkpoint
        return load_checkpoint(self.checkpoint_path) if self.checkpoint_path.exists() else None

    def discard_checkpoint(self) -> None:
        self.checkpoint_path.unlink(missing_ok=True)

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
