"""Crash-safe file writes: write to a temporary name in the same folder, fsync, rename.

A reader therefore sees either the old file or the complete new one, never a
half-written file that looks whole, even after SIGKILL or a power cut. A write that
fails (a full disk above all) removes its temporary file and leaves the target as it
was; running out of space is said as a `DiskFullError` naming the file and the space
left, never as a traceback.

This module is the one place that changes files for the store, which makes it the place
where a multi-process (DDP) job is kept to one writer: rank 0 writes, the other ranks
serialize into os.devnull and change nothing, and all ranks take each change together
(`core.ranks.file_change`), so they always see the same files. It is also where the
fault tests inject their faults (`core.faults`).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from . import faults
from .errors import DiskFullError
from .ranks import file_change

# How libraries that do their own I/O (safetensors, torch, SQLite) word a full disk.
_FULL_WORDS = ("no space left on device", "os error 28", "storagefull", "disk quota exceeded",
               "database or disk is full")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`."""
    with file_change() as writer:
        if not writer:  # a DDP rank > 0: the same serialization, into nothing
            yield Path(os.devnull)
            return
        path = Path(path)
        kind = faults.write_kind(path)
        with disk_full_as_error(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp)
        try:
            with disk_full_as_error(path):
                yield tmp
                faults.at_write(kind, "before", str(path))
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        faults.at_write(kind, "after", str(path))


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call `write(fileobj)` on a temporary file that then replaces `path`."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_bytes(path: str | os.PathLike, data: bytes | memoryview) -> None:
    atomic_write(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def make_dir(path: str | os.PathLike) -> None:
    """`mkdir -p`, by the writing process only."""
    with file_change() as writer:
        if writer:
            with disk_full_as_error(Path(path)):
                Path(path).mkdir(parents=True, exist_ok=True)


def remove(*paths: str | os.PathLike) -> None:
    """Delete files that may be missing, by the writing process only (one step for all)."""
    with file_change() as writer:
        if writer:
            for path in paths:
                Path(path).unlink(missing_ok=True)


def move_aside(path: str | os.PathLike) -> Path:
    """Rename a damaged file to `NAME.corrupt-<time>` beside it (kept for a look, never
    read again); returns the new name. By the writing process only."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for i in range(2, 1000):
        if not target.exists():
            break
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{i}")
    with file_change() as writer:
        if writer:
            os.replace(path, target)
    return target


# -- a full disk ----------------------------------------------------------------------
def is_disk_full(err: BaseException) -> bool:
    """Whether `err` (or what caused it) says the disk or a quota is full."""
    seen = 0
    while err is not None and seen < 8:
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(err).lower() for words in _FULL_WORDS):
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False


@contextlib.contextmanager
def disk_full_as_error(path: Path, what: str = "write") -> Iterator[None]:
    """Turn a full disk met inside the block into a `DiskFullError` about `path`."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as err:
        if is_disk_full(err):
            raise disk_full(path, err, what) from None
        raise


def disk_full(path: Path, err: BaseException, what: str = "write") -> DiskFullError:
    """The error a user sees: which file, why, the space left, and what to do."""
    state = "keeps its previous content" if path.exists() else "was not created"
    reason = getattr(err, "strerror", None) or str(err)
    return DiskFullError(
        f"Disk full: could not {what} {path} ({reason}); {free_space(path)} free on its disk. Nothing "
        f"half-written was left behind ({path.name} {state}). Free some space (or give --runs-dir on another "
        "disk) and run the same command again: finished work is reused and an unfinished run resumes from "
        "its last checkpoint.")


def free_space(path: Path) -> str:
    """The space free on the disk holding `path` (its nearest existing folder), for people."""
    for folder in (path, *path.parents):
        with contextlib.suppress(OSError):
            if folder.exists():
                free = float(shutil.disk_usage(folder).free)
                for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
                    if free < 1024 or unit == "TiB":
                        return f"{free:.0f} {unit}" if unit == "B" else f"{free:.1f} {unit}"
                    free /= 1024
    return "an unknown amount"
