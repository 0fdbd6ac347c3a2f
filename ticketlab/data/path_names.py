"""Datasets named by a path, read with no code: `npz:PATH` (a NumPy archive) and
`folder:PATH` (image folders, see folder_scan.py).

The name is kept as given (a spec says `npz:data/digits.npz`); the path is read from the
current folder. Whenever such a name is checked or looked up, the content hash of what
it names is recorded as the dataset's version (`note_version`), so that the run id of a
spec follows the bytes it trains on. Standard library only: specs check names here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import PathError, SpecError
from ..core.registry import note_version
from .content_hash import file_digest, files_digest
from .folder_scan import FolderListing, scan_folder

KINDS = ("npz", "folder")
PATTERNS = ["npz:PATH", "folder:PATH"]  # what error messages offer beside the registered names
DIGITS = 16  # hex digits of the sha256 in the version: 64 bits, ample to tell contents apart


@dataclass(frozen=True)
class PathDataset:
    name: str  # as given, e.g. 'npz:data/digits.npz'
    kind: str  # 'npz' or 'folder'
    path: Path  # absolute
    digest: str  # sha256 hex of the content
    listing: FolderListing | None = None  # a folder's classes and images


def path_kind(name: object) -> str | None:
    """'npz' or 'folder' for a name of that form, else None."""
    if not isinstance(name, str):
        return None
    kind, colon, _ = name.partition(":")
    return kind if colon and kind in KINDS else None


def current(name: str) -> PathDataset:
    """What the path name `name` names now, its version recorded (a clear error if it is not there)."""
    kind = path_kind(name)
    given = name.partition(":")[2]
    if kind is None or not given.strip():
        raise SpecError(f"The dataset name '{name}' names no path; write {kind or 'npz'}:PATH, e.g. "
                        f"npz:data/digits.npz or folder:data/photos.")
    path = Path(given).expanduser().absolute()
    listing = None
    if kind == "folder":
        listing = scan_folder(name, path)
        digest = files_digest(path, listing.files)
    else:
        if not path.is_file():
            problem = "is a folder, not a file" if path.exists() else "does not exist"
            raise PathError(f"Dataset '{name}': {path} {problem} (a relative path is read from the current folder, "
                            f"{Path.cwd()}); give a NumPy .npz file holding x_train, y_train, x_test and y_test.")
        digest = file_digest(path)
    note_version("dataset", name, "sha256:" + digest[:DIGITS], None)
    return PathDataset(name, kind, path, digest, listing)
