"""Where dataset files are looked for, in order of precedence.

1. the `data_dir` argument (the CLI's `--data-dir`),
2. `$TICKETLAB_DATA`,
3. the Debian dataset packages' folder `/usr/share/datasets/<debian-name>/`,
4. the user cache `$XDG_CACHE_HOME/ticketlab/<name>` (default `~/.cache/ticketlab/<name>`),
   which is also where downloads and generated data go.

The first two may hold the files directly or in a `<name>/` subfolder, so one folder can
serve every dataset. The first folder that holds a complete set wins: an explicit
`--data-dir` must beat whatever happens to be installed system-wide.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from ticketlab.core.errors import DatasetError

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
    return fetch_missing(cache_dir(entry))
