"""Training checkpoints: weights, optimizer state, step and RNG state in one file.

Written atomically; read with `weights_only=True`, so a checkpoint cannot run code.

A checkpoint carries the sha256 of its payload: one header line,
`TICKETLAB-CHECKPOINT sha256=<64 hex>`, then torch's own format. A file whose bytes
changed after it was written (a bad disk, a torn copy) fails the check and is never
loaded as if it were fine. Files written before the checksum have no header and are
read as torch's format alone.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..core.atomic import atomic_write
from ..core.errors import CheckpointError

MAGIC = b"TICKETLAB-CHECKPOINT sha256="
_HEADER = len(MAGIC) + 64 + 1  # the magic, the hex digest, a newline
_UNREADABLE = (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, OSError)


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    # Serialized in memory first: the digest goes before the payload, and a full disk then
    # fails in a plain Python write, which says so (torch's own writer does not).
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getbuffer()
    header = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"

    def write(f) -> None:
        f.write(header)
        f.write(payload)

    atomic_write(path, write)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    state = _load(path, verified_payload(path))
    if not isinstance(state, dict) or "step" not in state or "model" not in state:
        raise CheckpointError(f"{path} is not a ticketlab training checkpoint. {_advice(path)}")
    return state


def verified_payload(path: Path) -> bytes | None:
    """The checked payload of a checkpoint with a checksum; None for one written before
    checksums. Raises CheckpointError for a file that fails the check."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEADER)
            if not head.startswith(MAGIC):
                return None
            payload = f.read()
    except OSError as err:
        raise CheckpointError(f"Cannot read the checkpoint {path} ({err.strerror or err}). {_advice(path)}") from None
    digest = head[len(MAGIC):-1].decode("ascii", errors="replace")
    if len(head) < _HEADER or hashlib.sha256(payload).hexdigest() != digest:
        raise CheckpointError(
            f"The checkpoint {path} is corrupt: its content does not match the checksum written with it "
            f"({len(head) + len(payload)} bytes; changed or cut short since it was written), so it is not "
            f"loaded. {_advice(path)}")
    return payload


def _load(path: Path, payload: bytes | None) -> Any:
    try:
        source = io.BytesIO(payload) if payload is not None else path
        return torch.load(source, map_location="cpu", weights_only=True)
    except _UNREADABLE as err:
        raise CheckpointError(f"The checkpoint {path} is corrupt or unreadable ({type(err).__name__}: "
                              f"{str(err)[:160]}). {_advice(path)}") from None


def _advice(path: Path) -> str:
    if path.name == "checkpoint.pt":  # a unit's own: only progress is lost without it
        return ("Run the same command again: a damaged checkpoint is moved aside and its unit trains from "
                "its start (or rerun with --restart).")
    return (f"It cannot be recomputed on its own: move the run directory {path.parent} away (or restore the "
            "file from a backup) and run the same command again to compute the run from scratch.")
