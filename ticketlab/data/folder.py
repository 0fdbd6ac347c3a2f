"""`folder:PATH`: image folders (see folder_scan.py) decoded once with Pillow and kept as a
tensor file named by their content hash, so a later process reads that file instead.

Images are RGB, or one gray channel when every image is grayscale; all must have one size.
Inputs are standardized per channel with the statistics of the training images; no
augmentation. Where the decoded file goes: folder_cache.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DatasetError
from .folder_cache import cache_dirs, cache_name, read_cache, write_cache
from .own import DataOptions
from .path_names import PathDataset
from .registry import DatasetEntry
from .user_arrays import KEYS, prepared

GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
# (name, absolute path) -> (what was read, entry) of its latest read: one copy in memory per folder
LOADED: dict[tuple[str, str], tuple[PathDataset, DatasetEntry]] = {}


def _header(name: str, path: Path) -> tuple[tuple[int, int], str]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except Exception as error:  # Pillow raises many kinds for a damaged or foreign file
        raise DatasetError(f"Dataset '{name}': {path} cannot be read as an image ({type(error).__name__}: "
                           f"{' '.join(str(error).split())}); replace or remove it.") from None


def decode_images(found: PathDataset) -> dict[str, np.ndarray]:
    """{x_train: (N, C, H, W) uint8, y_train: (N,) int64, x_test, y_test} of the folder's images."""
    from PIL import Image

    listing = found.listing
    headers = {path: _header(found.name, found.path / path) for path in listing.files}
    first = listing.files[0]
    size = headers[first][0]
    odd = next((p for p in listing.files if headers[p][0] != size), None)
    if odd is not None:
        (w, h), (w0, h0) = headers[odd][0], size
        raise DatasetError(f"Dataset '{found.name}': {found.path / odd} is {w}x{h} pixels, but {first} is {w0}x{h0}; "
                           "every image needs one size (resize them to one).")
    mode = "L" if all(headers[p][1] in GRAY_MODES for p in listing.files) else "RGB"
    out = {}
    for split, items in (("train", listing.train), ("test", listing.test)):
        x = np.empty((len(items), 1 if mode == "L" else 3, size[1], size[0]), dtype=np.uint8)
        for row, (path, _) in enumerate(items):
            with Image.open(found.path / path) as image:
                pixels = np.asarray(image.convert(mode))
            x[row] = pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)
        out[f"x_{split}"], out[f"y_{split}"] = x, np.array([label for _, label in items], dtype=np.int64)
    return out


def folder_entry(found: PathDataset) -> DatasetEntry:
    """The entry of the image folders `found` names: decoded only when no cache file holds them."""
    key = (found.name, str(found.path))
    known = LOADED.get(key)
    if known is not None and known[0].digest == found.digest:
        return known[1]
    arrays = next((a for a in (read_cache(d / cache_name(found.digest), found) for d in cache_dirs())
                   if a is not None), None)
    if arrays is None:
        arrays = decode_images(found)
        write_cache(cache_dirs()[0] / cache_name(found.digest), arrays, found)
    info, values = prepared(found.name, arrays, len(found.listing.classes), DataOptions())
    entry = DatasetEntry(info, "folder", loader=lambda: values)
    LOADED[key] = (found, entry)
    return entry


def keep_in(entry: DatasetEntry, folder: str | Path) -> None:
    """Make sure `folder` holds the cache file of the folder dataset `entry` (read elsewhere first)."""
    for found, known in LOADED.values():
        if known is entry:
            path = Path(folder).expanduser() / cache_name(found.digest)
            if not path.is_file():
                write_cache(path, dict(zip(KEYS, entry.loader())), found)
            return
