"""The sha256 of a dataset read from a path: its runs' ids include it, so a changed byte
gives new runs rather than reusing those made from other data.

A digest is computed again only when a file's (size, mtime_ns, inode) changed: building
many specs on one large file then reads it once per process. Standard library only, since
specs check their dataset names (and so hash their files) without numpy or torch.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20
# path -> (the stamp it was hashed at, hex digest); a folder's stamp is that of every file
FILE_DIGESTS: dict[str, tuple[tuple, str]] = {}
FOLDER_DIGESTS: dict[str, tuple[tuple, str]] = {}


def stamp(path: Path) -> tuple[int, int, int]:
    # Taken before the read: a file changed while it is read gets a new stamp, so it is hashed again.
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_ino


def _update(digest, path: Path) -> None:
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)


def file_digest(path: Path) -> str:
    """The sha256 (hex) of the bytes of one file."""
    now = stamp(path)
    known = FILE_DIGESTS.get(str(path))
    if known is not None and known[0] == now:
        return known[1]
    digest = hashlib.sha256()
    _update(digest, path)
    FILE_DIGESTS[str(path)] = (now, digest.hexdigest())
    return digest.hexdigest()


def files_digest(root: Path, relative: list[str]) -> str:
    """The sha256 (hex) of files under `root`: their sorted relative paths and their bytes,
    each path and size framed by its length so that no two listings hash alike."""
    relative = sorted(relative)
    now = tuple((name, *stamp(root / name)) for name in relative)
    known = FOLDER_DIGESTS.get(str(root))
    if known is not None and known[0] == now:
        return known[1]
    digest = hashlib.sha256()
    for name, size, _, _ in now:
        encoded = name.encode()
        digest.update(len(encoded).to_bytes(8, "little") + encoded + size.to_bytes(8, "little"))
        _update(digest, root / name)
    FOLDER_DIGESTS[str(root)] = (now, digest.hexdigest())
    return digest.hexdigest()
