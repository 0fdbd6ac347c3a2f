"""Reading IDX files (the MNIST file format), gzipped or raw, with structural checks.

Format: two zero bytes, a type code, the number of dimensions, then one big-endian
int32 per dimension, then the values in C order. A file must be exactly that long,
so a truncated or padded file is caught before it silently becomes wrong data.
"""
from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from ticketlab.core.errors import DatasetError

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

_FIX = "Delete it and let ticketlab download it again, or replace it with the official file."


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed if it is gzip (told by its magic, not its name)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DatasetError(f"{path} is a truncated or corrupt gzip file ({err}). {_FIX}") from err


def parse_idx(content: bytes, path: Path) -> np.ndarray:
    """Decode IDX `content` (read from `path`, named in errors) into an array."""
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in _TYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number {content[:4].hex()}). {_FIX}")
    dtype, ndim = _TYPES[content[2]], content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DatasetError(f"{path} is truncated: its IDX header is incomplete. {_FIX}")
    dims = struct.unpack(f">{ndim}i", content[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        kind = "truncated" if len(content) < expected else "longer than its header says"
        raise DatasetError(f"{path} is {kind}: {len(content)} bytes, but dimensions {dims} need "
                           f"{expected}. {_FIX}")
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(dims)


def read_idx(path: Path, content_sha256: str | None = None) -> np.ndarray:
    """Read an IDX file; check the decompressed content's sha256 when it is known."""
    content = read_bytes(path)
    array = parse_idx(content, path)  # structure first: its messages say more than a hash
    if content_sha256 is not None and hashlib.sha256(content).hexdigest() != content_sha256:
        raise DatasetError(f"{path} is a well-formed IDX file but not the official one (the sha256 "
                           f"of its content differs): it is damaged or belongs to another dataset. {_FIX}")
    return array
