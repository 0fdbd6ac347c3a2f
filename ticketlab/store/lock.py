"""One process per run directory, via an advisory `flock`.

The kernel drops the lock when its holder dies (even by SIGKILL), so a crashed run never
leaves a stale lock behind. The holder writes its PID into the lock file so a waiting
process can say who it is waiting for.

In a multi-process (DDP) job the ranks are one run: rank 0 holds the lock for all of
them (the others would wait behind it forever).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from ..core.errors import RunLockedError, TicketlabError
from ..core.ranks import is_writer


class RunLock:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "an unknown process"
        except OSError:
            return "an unknown process"

    def acquire(self, wait: bool = True, on_wait: Callable[[str], None] | None = None,
                poll_s: float = 0.5) -> None:
        if not is_writer():
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise TicketlabError(f"Cannot open the lock file {self.path} ({err.strerror or err}), which keeps a "
                                 "second process out of this run. Check that the runs folder exists and is "
                                 "writable.") from None
        told = False
        tries = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                tries += 1
                if not wait and tries < 5:  # a passing `is_held` probe holds it for microseconds
                    time.sleep(0.02)
                    continue
                if not wait:
                    holder = self.holder()
                    os.close(fd)
                    raise RunLockedError(
                        f"Another process ({holder}) is running this experiment in {self.path.parent}. "
                        "Wait for it to finish (rerun without --no-wait), or stop that process.") from None
                if not told and on_wait is not None:
                    on_wait(f"Waiting for {self.holder()}, which is running this experiment...")
                    told = True
                time.sleep(poll_s)
        self._fd = fd
        with contextlib.suppress(OSError):  # who holds it, for a waiter to say; the lock holds without it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)

    def is_held(self) -> bool:
        """Whether some process holds the lock now (read only: a test lock, released at once)."""
        if self._fd is not None:
            return True
        try:
            # Read-write: on NFS, flock is emulated by fcntl locks, which need a writable
            # descriptor for an exclusive lock.
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell: take the stored status at its word
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held (BlockingIOError), or cannot tell: take the stored status at its word
            return True
        finally:
            os.close(fd)  # closing drops the test lock too
        return False

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
