"""`npz:PATH`: a NumPy archive holding x_train, y_train, x_test and y_test, and optionally
num_classes (else the largest label + 1). Inputs are standardized with the statistics of
the training inputs (per channel for images (N, C, H, W)); no augmentation.
"""
from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np

from ..core.errors import DatasetError
from ..core.registry import note_version
from .own import DataOptions
from .path_names import DIGITS, PathDataset
from .registry import DatasetEntry
from .user_arrays import KEYS, prepared

# (name, absolute path) -> (digest, entry) of its latest read: one copy in memory per file
LOADED: dict[tuple[str, str], tuple[str, DatasetEntry]] = {}


def read_archive(name: str, data: bytes) -> tuple[dict, object]:
    """({key: array}, num_classes or None) from the bytes of an .npz file."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("it is a single .npy array, not an archive of several")
            missing = [k for k in KEYS if k not in archive.files]
            if missing:
                raise DatasetError(f"Dataset '{name}': the archive has no {', '.join(missing)}; it holds "
                                   f"{', '.join(sorted(archive.files)) or 'nothing'}, and needs {', '.join(KEYS)} "
                                   "(and, optionally, num_classes).")
            values = {k: archive[k] for k in KEYS}
            count = archive["num_classes"] if "num_classes" in archive.files else None
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:
        raise DatasetError(f"Dataset '{name}' cannot be read as a NumPy .npz archive ({' '.join(str(error).split())}); "
                           "write it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...).") from None
    if count is not None and (count.size != 1 or count.dtype.kind not in "iu"):
        raise DatasetError(f"Dataset '{name}': num_classes in the archive is a {count.dtype} array of shape "
                           f"{count.shape}; it must be one whole number, e.g. np.savez(..., num_classes=10).")
    return values, (None if count is None else count.reshape(()).item())


def npz_entry(found: PathDataset) -> DatasetEntry:
    """The entry of the archive `found` names, read once per content."""
    key = (found.name, str(found.path))
    known = LOADED.get(key)
    if known is not None and known[0] == found.digest:
        return known[1]
    data = found.path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != found.digest:  # changed since it was hashed: the version follows the bytes read
        note_version("dataset", found.name, "sha256:" + digest[:DIGITS], None)
    values, num_classes = read_archive(found.name, data)
    info, arrays = prepared(found.name, values, num_classes, DataOptions())
    entry = DatasetEntry(info, "npz", loader=lambda: arrays)
    LOADED[key] = (digest, entry)
    return entry
