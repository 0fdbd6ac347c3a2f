"""A unit's tensor files (weights, masks) as safetensors with a checksum.

safetensors checks a file's layout but not its bytes: a flipped bit inside a weight
would load as a slightly different network. So every tensor file the store writes
carries, in its metadata, the sha256 of its layout (names, dtypes, shapes, offsets) and
data; `verify` checks it before the file is read (by `sparse.io`, which checks names,
dtypes and shapes), and a file that fails is reported, never used. Files without the
checksum (written before it, or by another program) are read as they are.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.atomic import write_bytes
from ..core.errors import CheckpointError

if TYPE_CHECKING:
    import torch

DIGEST_KEY = "ticketlab_sha256"


def save_tensors(path: str | os.PathLike, tensors: Mapping[str, "torch.Tensor"],
                 metadata: Mapping[str, str] | None = None) -> None:
    from safetensors.torch import save

    # safetensors refuses shared or non-contiguous storage: store plain CPU copies.
    plain = {n: t.detach().cpu().contiguous().clone() for n, t in tensors.items()}
    data = save(plain)
    write_bytes(path, _with_metadata(data, {**(metadata or {}), DIGEST_KEY: _digest(data)}))


def verify(path: str | os.PathLike, advice: str | None = None) -> None:
    """Raise CheckpointError unless the tensor file at `path` is there and whole: a header
    that parses and, where the file carries a checksum, layout and data that match it.
    `advice` says what to do about a bad file (default: a run's unit file's advice)."""
    path = Path(path)
    advice = advice or _advice(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"No tensor file at {path}. {advice}") from None
    except OSError as err:
        raise CheckpointError(f"Cannot read the tensor file {path} ({err.strerror or err}). {advice}") from None
    _check(path, data, advice)


def _check(path: Path, data: bytes, advice: str) -> None:
    header = _header(data)
    if header is None:
        raise _corrupt(path, f"its header is cut short or garbled ({len(data)} bytes)", advice)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise _corrupt(path, "its metadata is garbled", advice)
    stored = metadata.get(DIGEST_KEY)
    if stored is not None and _digest(data) != stored:
        raise _corrupt(path, "its content does not match the checksum written with it (changed or cut short "
                             "since it was written)", advice)


def _header(data: bytes) -> dict | None:
    if len(data) < 8:
        return None
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        return None
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _with_metadata(data: bytes, metadata: dict[str, str]) -> bytes:
    """`data` (a safetensors file) with `metadata` in its header, which is written here
    rather than by safetensors so that the same tensors always give the same bytes
    (safetensors orders the metadata differently from one process to the next)."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    tensors = sorted(header.items(), key=lambda item: item[1]["data_offsets"])
    text = json.dumps({"__metadata__": dict(sorted(metadata.items())), **dict(tensors)}, separators=(",", ":"))
    encoded = text.encode()
    encoded += b" " * (-len(encoded) % 8)  # the data stays 8-byte aligned, as safetensors keeps it
    return len(encoded).to_bytes(8, "little") + encoded + data[8 + size:]


def _digest(data: bytes) -> str:
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    digest.update(memoryview(data)[8 + size:])
    return digest.hexdigest()


def run_folder(path: Path) -> Path:
    """The run directory holding `path` (the nearest folder with a spec.json), for advice."""
    return next((p for p in (path, *path.parents) if (p / "spec.json").exists()), path)


def _corrupt(path: Path, why: str, advice: str) -> CheckpointError:
    return CheckpointError(f"The tensor file {path} is corrupt: {why}, so it is not used. {advice}")


def _advice(path: Path) -> str:
    return (f"Restore it from a backup, or move the run directory {run_folder(path.parent)} away and run the same "
            "command again to compute the run from scratch.")
