"""Training checkpoints: weights, optimizer state, step and RNG state in one file.

Written atomically; read with `weights_only=True`, so a checkpoint cannot run code.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from typing import Any

import torch

from ..core.atomic import atomic_path
from ..core.errors import CheckpointError


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        raise CheckpointError(
            f"The checkpoint {path} is corrupt or unreadable ({type(err).__name__}: {str(err)[:160]}). "
            "Delete it to restart this run from scratch, or rerun with --restart.") from None
    if not isinstance(state, dict) or "step" not in state or "model" not in state:
        raise CheckpointError(f"{path} is not a ticketlab training checkpoint. Delete it or rerun with --restart.")
    return state
