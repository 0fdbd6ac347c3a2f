"""Process identity in a multi-process (torchrun) job: who writes files, and how the ranks
change the file system together.

`torchrun` starts N copies of one program; only rank 0 writes files (`is_writer`), and
every change to the file system is one step that all ranks take together
(`file_change`): they wait for each other before it (so none is still reading the old
state) and after it (so all can read the new one). That keeps the ranks' view of a run
directory identical, and with it every decision that depends on it (is this unit
finished? is there a checkpoint?).

This is the lowest layer: standard library only. torch.distributed is looked up in
`sys.modules`, never imported, since the store calls these on every write, also in
commands that never load torch. The training side of DDP is `train/ddp.py`.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0")) if world_size() > 1 else 0


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0")) if world_size() > 1 else 0


def is_writer() -> bool:
    """True in a single process and on rank 0 of a multi-process job: the one that writes."""
    return rank() == 0


def active() -> bool:
    """True once this process has joined a multi-process job (`train.ddp.setup`)."""
    dist = sys.modules.get("torch.distributed")  # not imported: certainly no job
    return dist is not None and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def quiet_other_ranks() -> None:
    """Ranks > 0 print nothing to stdout: they would repeat rank 0's results line for
    line. Their stderr stays, so an error on any rank is seen."""
    if not is_writer():
        sys.stdout = open(os.devnull, "w")


@contextlib.contextmanager
def file_change() -> Iterator[bool]:
    """One change to the file system, taken by all ranks together; yields whether this
    process is the one that makes it.

    While an exception is being handled (a run failed or was interrupted) the ranks may
    no longer be in step, so a change (writing the failed status) then goes ahead
    without waiting for the others: reporting a failure must never hang."""
    together = active() and sys.exc_info()[0] is None
    if together:
        sys.modules["torch.distributed"].barrier()
    yield is_writer()
    if together:
        sys.modules["torch.distributed"].barrier()
