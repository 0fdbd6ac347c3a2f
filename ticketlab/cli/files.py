"""The file and folder arguments of the command line, checked in one place before a
command runs.

Each such argument is declared with what it must be (`path_argument`, or `declare` for
one a shared helper adds), which the parser keeps among its defaults; `check_paths`
checks every declared one of a parsed line. A path that is missing, of the wrong kind
(a file where a folder belongs, or the reverse) or out of reach is then one paragraph
naming the flag, the path and what it must be, rather than a traceback from deep inside
a command (or a run that silently reads or writes somewhere else).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import PathError

# What an argument names; the ones written may be created, with their missing folders.
IN_FILE, IN_FOLDER = "file", "folder"            # read: must exist
OUT_FILE, OUT_FOLDER = "out-file", "out-folder"  # written
RUNS, RUNS_READ = "runs", "runs-read"            # the runs folder, written in or only read

_KEY = "path:"  # the prefix of the parser defaults that declare path arguments


@dataclass(frozen=True)
class PathArg:
    kind: str
    label: str  # how messages name the argument: --runs-dir, CONFIG
    noun: str   # what it names: runs folder, config file
    valid: str  # what it must name, after "must name"


def declare(parser, dest: str, arg: PathArg) -> None:
    """Make `check_paths` check the argument stored at `dest` (a parser or argument group)."""
    parser.set_defaults(**{_KEY + dest: arg})


def path_argument(parser, *names: str, kind: str, noun: str, valid: str, label: str | None = None, **kwargs):
    """Add an argument that names a file or folder, declared for `check_paths`."""
    action = parser.add_argument(*names, **kwargs)
    label = label or max(action.option_strings, key=len, default=None) or action.metavar or action.dest.upper()
    declare(parser, action.dest, PathArg(kind, label, noun, valid))
    return action


def check_paths(args) -> None:
    """Check every declared path argument of a parsed line; the runs folder also when the
    line leaves it to $TICKETLAB_RUNS or the default, which a command uses just the same."""
    for key, arg in list(vars(args).items()):
        if not key.startswith(_KEY):
            continue
        value = getattr(args, key[len(_KEY):], None)
        if value is None and arg.kind in (RUNS, RUNS_READ):
            value, arg = _default_runs(arg)
        if value is not None:
            check(str(value), arg)


def _default_runs(arg: PathArg) -> tuple[str, PathArg]:
    from ..store.run_store import default_runs_dir
    given = os.environ.get("TICKETLAB_RUNS")
    label = "$TICKETLAB_RUNS" if given else f"{arg.label} (not given, so its default)"
    return str(default_runs_dir()), PathArg(arg.kind, label, arg.noun, arg.valid)


def check(value: str, arg: PathArg) -> None:
    """Raise PathError unless `value` names what `arg` says."""
    if not value:
        raise PathError(f"{arg.label} is empty: it must name {arg.valid}.")
    path = Path(value)
    if arg.kind in (IN_FILE, IN_FOLDER):
        _check_input(path, arg)
    else:
        _check_output(path, arg)


def _refuse(path: Path, problem: str, arg: PathArg) -> PathError:
    return PathError(f"{path} {problem}: {arg.label} must name {arg.valid}.")


def _what(path: Path) -> str:
    return "folder" if path.is_dir() else "file"


def _check_input(path: Path, arg: PathArg) -> None:
    folder = arg.kind == IN_FOLDER
    if not path.exists():
        raise PathError(f"No {arg.noun} at {path}: {arg.label} must name {arg.valid}.")
    # A file may be any non-folder (a pipe from the shell reads as well as a plain file).
    if path.is_dir() != folder:
        raise _refuse(path, f"is a {_what(path)}, not a {'folder' if folder else 'file'}", arg)
    if not os.access(path, os.R_OK | (os.X_OK if folder else 0)):
        raise _refuse(path, "cannot be read (no permission)", arg)


def _check_output(path: Path, arg: PathArg) -> None:
    folder = arg.kind != OUT_FILE
    if path.is_symlink() and not path.exists():
        raise _refuse(path, f"is a link to {os.readlink(path)}, which does not exist", arg)
    if not path.exists():
        blocker = _blocker(path)
        if blocker is not None:
            raise _refuse(path, f"does not exist and cannot be created, since {blocker}", arg)
        return
    if path.is_dir() != folder:
        raise _refuse(path, f"is a {_what(path)}, not a {'folder' if folder else 'file'}", arg)
    if not folder:  # a file is replaced by a rename in its folder, which is what must be writable
        blocker = _blocker(path)
        if blocker is not None:
            raise _refuse(path, f"cannot be replaced, since {blocker}", arg)
        return
    if not os.access(path, os.R_OK | os.X_OK):
        raise _refuse(path, "cannot be read (no permission)", arg)
    if arg.kind != RUNS_READ and not os.access(path, os.W_OK | os.X_OK):
        raise _refuse(path, "cannot be written to (no permission)", arg)


def _blocker(path: Path) -> str | None:
    """Why `path` cannot be created (or replaced) in its nearest existing folder; None if it can."""
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists():
        if parent.is_symlink():  # mkdir would meet it and fail
            return f"{parent} is a link to {os.readlink(parent)}, which does not exist"
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent} cannot be written to (no permission)"
    return None
