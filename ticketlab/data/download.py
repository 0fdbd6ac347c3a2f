"""Fetching official dataset files into the user cache, safely.

A download streams into a temporary file beside its destination, is checked (length,
md5 against the registry), and only then renamed into place with `os.replace`. So a
file with the final name is always whole, concurrent processes downloading the same
file cannot corrupt each other (last rename wins, same bytes), and any failure leaves
nothing behind.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ticketlab.core.errors import DatasetError

from .registry import DatasetEntry, RemoteFile

NO_DOWNLOAD_ENV = "TICKETLAB_NO_DOWNLOAD"
TIMEOUT_S = 60.0
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


def downloads_allowed(download: bool | None) -> bool:
    """`download=None` defers to the environment, so CI and offline clusters can forbid it."""
    if download is not None:
        return download
    return os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() not in ("1", "true", "yes")


def has_source(entry: DatasetEntry) -> bool:
    """Whether `entry`'s files can be fetched at all: a mirror, and an md5 per file to check it by."""
    mirror = os.environ.get(f"TICKETLAB_MIRROR_{entry.name.upper()}") or entry.mirror
    return bool(mirror) and all(f.md5 for f in entry.files)


def mirror_base(entry: DatasetEntry) -> str:
    base = os.environ.get(f"TICKETLAB_MIRROR_{entry.name.upper()}") or entry.mirror
    return base if base.endswith("/") else base + "/"


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(entry: DatasetEntry, remote: RemoteFile, dest_dir: Path) -> Path:
    """Download `remote` from the entry's mirror into `dest_dir`; return the final path."""
    url = mirror_base(entry) + remote.filename
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / remote.filename
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{remote.filename}.", suffix=".part")
    tmp = Path(tmp_name)
    log.info("downloading %s", url)
    try:
        with os.fdopen(fd, "wb") as out:
            md5 = _stream(url, out)
        if md5 != remote.md5:
            raise DatasetError(
                f"The download of {url} has md5 {md5}, but the official file has {remote.md5}: the "
                f"mirror serves a different or damaged file. Try again later, point "
                f"TICKETLAB_MIRROR_{entry.name.upper()} at another mirror, or place the official "
                f"files yourself and pass --data-dir.")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def _stream(url: str, out) -> str:
    """Copy `url` into `out`, returning the md5; DatasetError on any transport failure."""
    digest = hashlib.md5()
    received = 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            expected = response.headers.get("Content-Length")
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    except (OSError, http.client.HTTPException, ValueError) as err:
        raise DatasetError(
            f"Downloading {url} failed ({_describe(err)}) after {received} bytes; nothing was kept. "
            f"Check the connection and retry, set a mirror with TICKETLAB_MIRROR_<NAME>, or place "
            f"the files yourself and pass --data-dir (or set $TICKETLAB_DATA).") from err
    if expected is not None and int(expected) != received:
        raise DatasetError(
            f"Downloading {url} was cut short: {received} of {expected} bytes arrived; nothing was "
            f"kept. Retry, or place the files yourself and pass --data-dir.")
    return digest.hexdigest()


def _describe(err: BaseException) -> str:
    if isinstance(err, http.client.IncompleteRead):
        return f"connection closed early, {len(err.partial)} bytes of the last read"
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    return f"{type(err).__name__}: {err}"
