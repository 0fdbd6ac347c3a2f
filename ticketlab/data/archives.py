"""Dataset archives from elsewhere (a download, a file the user placed), opened safely.

An archive is a file someone else wrote: a member named `../x` or `/etc/x`, or a link,
would write or read outside the folder it is unpacked into. So every member is checked
before anything is extracted or used, and an archive holding any but plain files and
folders below its own folder is refused whole. Extraction also passes `filter="data"`
where this Python has it, as a second guard; it is not relied on alone, since older
Pythons (3.10 before 3.10.12) lack it and it lets links that stay inside through.
"""
from __future__ import annotations

import re
import tarfile
from pathlib import Path, PurePosixPath

from ticketlab.core.errors import DatasetError

_VALID = ("a dataset archive may hold only plain files and folders below its own folder. Delete it and let "
          "ticketlab download the official archive again, or place the official files yourself")


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why `member` may not come out of a dataset archive; None for a plain file or folder inside it."""
    if member.issym() or member.islnk():
        return f"a {'symbolic' if member.issym() else 'hard'} link to '{member.linkname}'"
    if not (member.isfile() or member.isdir()):
        return "a device, pipe or other special file"
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith("\\") or re.match(r"[A-Za-z]:", member.name):
        return "an absolute path"
    if ".." in path.parts:
        return "a path that climbs out of the archive's folder"
    return None


def refuse_unsafe(member: tarfile.TarInfo, archive: Path, doing: str) -> None:
    """Raise DatasetError if `member` of `archive` is unsafe; `doing` says what was refused."""
    problem = member_problem(member)
    if problem is not None:
        raise DatasetError(f"Could not {doing} {archive}: its member '{member.name}' is {problem}; {_VALID}.")


def extract_tar(archive: Path, dest: Path) -> None:
    """Extract `archive` into `dest` once every member is checked (DatasetError otherwise).
    tarfile's own errors (a truncated or corrupt archive) pass to the caller."""
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            refuse_unsafe(member, archive, "extract")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)


def read_tar_members(archive: Path, names: set[str]) -> dict[str, bytes]:
    """The bytes of the members `names` of `archive`, read in memory (nothing extracted) in one
    pass that checks every member; a name the archive lacks is absent from the result."""
    out = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            refuse_unsafe(member, archive, "read")
            if member.name in names and member.isfile():
                out[member.name] = tar.extractfile(member).read()
    return out
