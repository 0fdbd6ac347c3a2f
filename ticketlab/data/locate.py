"""Where dataset files are looked for, in order of precedence.

1. the `data_dir` argument (the CLI's `--data-dir`),
2. `$TICKETLAB_DATA`,
3. the Debian dataset packages' folder `/usr/share/datasets/<debian-name>/`,
4. the user cache `$XDG_CACHE_HOME/ticketlab/<name>` (default `~/.cache/ticketlab/<name>`),
   which is also where downloads and generated data go.

The first two may hold the files directly or in a `<name>/` subfolder, so one folder can
serve every dataset. The first folder that holds a complete set wins: an explicit
`--data-dir` must beat whatever happens to be installed system-wide. A folder the user
names is the only place looked in: when it is missing or lacks the files the read is
refused, saying what was looked for where, rather than quietly using another copy (or
downloading one).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from ticketlab.core.errors import DatasetError
from ticketlab.core.ranks import file_change

from .registry import DatasetEntry

DATA_ENV = "TICKETLAB_DATA"
DEBIAN_ROOT = Path("/usr/share/datasets")  # a module constant so tests can move it

T = TypeVar("T")


def user_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ticketlab"


def cache_dir(entry: DatasetEntry) -> Path:
    return user_cache_root() / entry.name


def _with_subfolders(root: Path, entry: DatasetEntry) -> list[Path]:
    names = [entry.name] + ([entry.debian_dir] if entry.debian_dir else [])
    return [root] + [root / n for n in dict.fromkeys(names)]


def candidate_dirs(entry: DatasetEntry, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every folder that may hold `entry`'s files, most preferred first."""
    dirs: list[Path] = []
    if data_dir is not None:
        dirs += _with_subfolders(Path(data_dir).expanduser(), entry)
    if os.environ.get(DATA_ENV):
        dirs += _with_subfolders(Path(os.environ[DATA_ENV]).expanduser(), entry)
    if entry.debian_dir:
        dirs.append(DEBIAN_ROOT / entry.debian_dir)
    dirs.append(cache_dir(entry))
    return list(dict.fromkeys(dirs))


def first_match(dirs: list[Path], match: Callable[[Path], T | None]) -> T | None:
    """The first non-None `match(dir)` over existing folders, in order."""
    for d in dirs:
        if d.is_dir():
            found = match(d)
            if found is not None:
                return found
    return None


def how_to_provide(entry: DatasetEntry, dirs: list[Path]) -> str:
    """The fix-it half of a 'files not found' message."""
    from .download import has_source

    files = ", ".join(f.filename for f in entry.files)
    searched = ", ".join(str(d) for d in dirs)
    debian = f" or run `apt-get install {entry.debian_package}`," if entry.debian_package else ""
    where = (f"Put the files ({files}) in a folder and pass it with --data-dir (data_dir=...) or ${DATA_ENV} "
             f"(directly or in a '{entry.name}/' subfolder)")
    if not has_source(entry):  # a local-only dataset: no mirror or no checksums to verify a download by
        return f"Searched: {searched}. {where}{debian.rstrip(',')}."
    return (f"Searched: {searched}. {where},{debian} "
            f"or allow the download into {cache_dir(entry)} (unset TICKETLAB_NO_DOWNLOAD; "
            f"a mirror can be set with TICKETLAB_MIRROR_{entry.name.upper()}).")


def find_or_fetch(entry: DatasetEntry, data_dir, download: bool | None, match: Callable[[Path], T | None],
                  fetch_missing: Callable[[Path], T]) -> T:
    """The first folder's `match`, else `fetch_missing(cache folder)` where downloads are allowed."""
    from .download import downloads_allowed, has_source  # download imports this module's neighbours

    if data_dir is not None:
        return in_named_folder(entry, Path(data_dir).expanduser(), match)
    dirs = candidate_dirs(entry, data_dir)
    found = first_match(dirs, match)
    if found is not None:
        return found
    if not has_source(entry):
        raise DatasetError(f"The {entry.name} dataset files were not found, and they have no download "
                           "source. " + how_to_provide(entry, dirs))
    if not downloads_allowed(download):
        raise DatasetError(f"The {entry.name} dataset files were not found and downloads are off. "
                           + how_to_provide(entry, dirs))
    # In a torchrun job rank 0 alone downloads while the other ranks wait; then they find
    # what it fetched (an error on rank 0 leaves them to report the files missing).
    with file_change() as writer:
        if writer:
            return fetch_missing(cache_dir(entry))
    found = first_match(dirs, match)
    if found is None:
        raise DatasetError(f"The {entry.name} dataset files were not found after rank 0 of this job downloaded "
                           f"them. " + how_to_provide(entry, dirs))
    return found


def in_named_folder(entry: DatasetEntry, folder: Path, match: Callable[[Path], T | None]) -> T:
    """`match` in the folder the user named (or its subfolders named after the dataset), or
    an error saying what was looked for where; never another copy of the files."""
    from .download import has_source

    files = ", ".join(f.filename for f in entry.files)
    named = "the folder given as --data-dir (data_dir=...)"
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "was not found"
        raise DatasetError(f"The folder given as --data-dir (data_dir=...), {folder}, {problem}. It must be a "
                           f"folder holding the {entry.name} files ({files}), directly or in a '{entry.name}/' "
                           f"subfolder; or leave it out to search {default_order(entry)}.")
    dirs = _with_subfolders(folder, entry)
    found = first_match(dirs, match)
    if found is not None:
        return found
    lacking = "were not found, and they have no download source" if not has_source(entry) else "were not found"
    absent = [f.filename for f in entry.files if not any(_holds(d, f.filename) for d in dirs)]
    raise DatasetError(f"The {entry.name} dataset files {lacking}: looked for {files} in {named}: "
                       f"{', '.join(str(d) for d in dirs)}"
                       + (f" (none holds {', '.join(absent)})" if absent else " (they hold no complete set)")
                       + f". Put them there (directly or in a '{entry.name}/' subfolder), or leave out --data-dir "
                       f"to search {default_order(entry)}.")


def _holds(folder: Path, filename: str) -> bool:
    """Whether `folder` holds `filename`, or the file decompressed (which the IDX reader takes)."""
    return (folder / filename).is_file() or (folder / filename.removesuffix(".gz")).is_file()


def default_order(entry: DatasetEntry) -> str:
    """Where the files are looked for when no folder is named, for messages."""
    from .download import has_source

    places = [f"${DATA_ENV}"]
    if entry.debian_dir:
        package = f" (apt-get install {entry.debian_package})" if entry.debian_package else ""
        places.append(f"{DEBIAN_ROOT / entry.debian_dir}{package}")
    cache = f"the user cache {cache_dir(entry)}"
    if has_source(entry):
        cache += " (downloaded into it unless TICKETLAB_NO_DOWNLOAD=1)"
    return ", ".join(places + [cache])
