"""Crash-safe file writes: write to a temporary name in the same folder, fsync, rename.

A reader therefore sees either the old file or the complete new one, never a
half-written file that looks whole, even after SIGKILL or a power cut.

This module is the one place that changes files for the store, which makes it the place
where a multi-process (DDP) job is kept to one writer: rank 0 writes, the other ranks
serialize into os.devnull and change nothing, and all ranks take each change together
(`core.ranks.file_change`), so they always see the same files.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .ranks import file_change


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`."""
    with file_change() as writer:
        if not writer:  # a DDP rank > 0: the same serialization, into nothing
            yield Path(os.devnull)
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp)
        try:
            yield tmp
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call `write(fileobj)` on a temporary file that then replaces `path`."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def make_dir(path: str | os.PathLike) -> None:
    """`mkdir -p`, by the writing process only."""
    with file_change() as writer:
        if writer:
            Path(path).mkdir(parents=True, exist_ok=True)


def remove(*paths: str | os.PathLike) -> None:
    """Delete files that may be missing, by the writing process only (one step for all)."""
    with file_change() as writer:
        if writer:
            for path in paths:
                Path(path).unlink(missing_ok=True)
