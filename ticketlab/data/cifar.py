"""CIFAR-10 and CIFAR-100 in their official 'python version' layout.

Each is one archive holding a folder of pickled batches. Locally we accept the extracted
folder (fastest) or the archive itself (read in memory, never extracted where it lies);
a download is verified, extracted safely into the user cache and the archive removed.
Either way every member of the archive is checked first (`archives.py`).
"""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ticketlab.core.errors import DatasetError

from . import locate
from .archives import extract_tar, read_tar_members
from .download import fetch, file_md5
from .registry import DatasetEntry
from .safe_pickle import load_batch


@dataclass(frozen=True)
class CifarLayout:
    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    label_key: bytes

    @property
    def members(self) -> tuple[str, ...]:
        return self.train + self.test


LAYOUTS = {
    "cifar10": CifarLayout("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)),
                           ("test_batch",), b"labels"),
    "cifar100": CifarLayout("cifar-100-python", ("train",), ("test",), b"fine_labels"),
}


def _layout(entry: DatasetEntry) -> CifarLayout:
    """The archive layout of a dataset in the cifar format: the official ones are known
    by name; a dataset registered in this format must be one of them."""
    try:
        return LAYOUTS[entry.name]
    except KeyError:
        raise DatasetError(f"The cifar format reads the official CIFAR archives ({', '.join(LAYOUTS)}); "
                           f"'{entry.name}' is none of them. Register it with another format (e.g. a "
                           "loader of your own), or give it one of those archives' names.") from None


def _match(folder: Path, entry: DatasetEntry) -> Path | None:
    """The extracted batch folder or the archive, if `folder` holds either."""
    layout = _layout(entry)
    for d in (folder / layout.folder, folder):
        if all((d / m).is_file() for m in layout.members):
            return d
    archive = folder / entry.files[0].filename
    return archive if archive.is_file() else None


def _extract(archive: Path, layout: CifarLayout) -> Path:
    """Extract into a temporary folder, then rename: a half-extracted folder never looks whole."""
    final = archive.parent / layout.folder
    tmp = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".extract-"))
    try:
        extract_tar(archive, tmp)  # every member checked first: no links, nothing outside tmp
        if not final.exists():
            os.replace(tmp / layout.folder, final)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DatasetError(f"Could not extract {archive} ({err}). Delete it and retry.") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()
    return final


def _find_or_fetch(entry: DatasetEntry, data_dir, download: bool | None) -> Path:
    return locate.find_or_fetch(entry, data_dir, download, lambda d: _match(d, entry),
                                lambda cache: _extract(fetch(entry, entry.files[0], cache), LAYOUTS[entry.name]))


def _read_members(source: Path, entry: DatasetEntry) -> dict[str, bytes]:
    layout = _layout(entry)
    if source.is_dir():
        return {m: (source / m).read_bytes() for m in layout.members}
    if file_md5(source) != entry.files[0].md5:
        raise DatasetError(f"{source} is not the official {entry.files[0].filename} (md5 differs). "
                           f"Delete it and let ticketlab download it, or replace it with the official archive.")
    wanted = {f"{layout.folder}/{m}": m for m in layout.members}
    try:
        raw = read_tar_members(source, set(wanted))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DatasetError(f"{source} is truncated, corrupt or lacks the official batches ({err}). "
                           f"Delete it and retry, or replace it with the official archive.") from err
    missing = sorted(set(wanted) - set(raw))
    if missing:
        raise DatasetError(f"{source} lacks the official batches ({', '.join(missing)}). "
                           f"Delete it and retry, or replace it with the official archive.")
    return {m: raw[name] for name, m in wanted.items()}


def _decode(batch: dict, entry: DatasetEntry, where: str) -> tuple[np.ndarray, np.ndarray]:
    key = LAYOUTS[entry.name].label_key
    data, labels = batch.get(b"data"), batch.get(key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f"{where} holds no (N, 3072) uint8 b'data' array, so it is not an official "
                           f"CIFAR batch. Replace it with the official file.")
    labels = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if labels.shape != (len(data),) or (len(labels) and not 0 <= labels.min() <= labels.max() < entry.info.num_classes):
        raise DatasetError(f"{where} has labels ({key!r}) that do not match its {len(data)} images or lie "
                           f"outside 0..{entry.info.num_classes - 1}. Replace it with the official file.")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar(entry: DatasetEntry, data_dir: str | os.PathLike | None,
               download: bool | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images (N,3,32,32) uint8, train labels, test images, test labels)."""
    source = _find_or_fetch(entry, data_dir, download)
    raw = _read_members(source, entry)
    layout = _layout(entry)

    def join(members):
        parts = [_decode(load_batch(raw[m], f"{source}/{m}"), entry, f"{source}/{m}") for m in members]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    return (*join(layout.train), *join(layout.test))
