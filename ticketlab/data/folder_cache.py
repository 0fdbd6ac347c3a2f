"""The decoded images of a folder dataset as one tensor file, named by the folder's content
hash: a later process reads that file instead of decoding every image again.

The file goes in the folder given to `load_dataset(cache_dir=...)` (or `use_cache_dir`),
else under the user cache of `locate` (`<cache>/ticketlab/folders`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.atomic import write_bytes
from . import locate
from .path_names import PathDataset
from .user_arrays import KEYS

CACHE_DIRS: list[Path] = []  # the folders this process was given, newest first


def use_cache_dir(folder: str | Path) -> None:
    """Look for (and write) decoded folder datasets in `folder` first, from now on in this process."""
    folder = Path(folder).expanduser().absolute()
    CACHE_DIRS[:] = [folder] + [d for d in CACHE_DIRS if d != folder]


def cache_dirs() -> list[Path]:
    return CACHE_DIRS + [locate.user_cache_root() / "folders"]


def cache_name(digest: str) -> str:
    return f"folder-{digest[:32]}.safetensors"


def read_cache(path: Path, found: PathDataset) -> dict[str, np.ndarray] | None:
    """The decoded arrays in `path`, or None when it is missing, damaged or of other content
    (a cache: decoding again is always possible)."""
    from safetensors import safe_open

    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="np") as handle:
            if (handle.metadata() or {}).get("digest") != found.digest:
                return None
            arrays = {key: handle.get_tensor(key) for key in KEYS}
    except Exception:  # damaged or cut short: decode again and write it whole
        return None
    sizes = (len(arrays["x_train"]), len(arrays["y_train"]), len(arrays["x_test"]), len(arrays["y_test"]))
    listing = found.listing
    return arrays if sizes == (len(listing.train),) * 2 + (len(listing.test),) * 2 else None


def write_cache(path: Path, arrays: dict[str, np.ndarray], found: PathDataset) -> None:
    from safetensors.numpy import save

    metadata = {"digest": found.digest, "source": str(found.path), "classes": json.dumps(found.listing.classes)}
    write_bytes(path, save({key: np.ascontiguousarray(arrays[key]) for key in KEYS}, metadata=metadata))
