"""Checkpoints of a batch: the members of one stacked computation saved as one step.

A batch trained together resumes together, and so exactly as if never stopped, only if
every member's checkpoint stands at the same step: a member resumed alone, or from an
older step than the others, is trained by other sums in another order (float
tolerance, which SGD amplifies). A kill between two members' writes would break that,
so a batch commits in two phases. Each member's state is first written whole beside
its checkpoint (`checkpoint.next.pt`, naming the whole batch); only once every member's
is written are they renamed, one by one, over `checkpoint.pt`. Settling, before a batch
resumes: a pending file whose batch is all written (each member holds that step pending
or renamed) is renamed; one whose batch is not is deleted, leaving the previous step.
Either way every member stands at one step.

The member checkpoints stay in the single-network format, so a member that resumes
alone (its batch broken up) reads its own as ever.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.atomic import remove
from .checkpoint import load_checkpoint
from .unit import PENDING_CHECKPOINT as PENDING, Unit
_GROUP = "batch_members"   # the members' folders, relative to this one's, in the pending state


def save_group(units: list[Unit], states: list[dict]) -> None:
    """Commit one step of every member, in two phases (see the module docstring)."""
    for unit, state in zip(units, states):
        members = [os.path.relpath(other.path, unit.path) for other in units]
        unit.save_checkpoint({**state, _GROUP: members}, name=PENDING)
    for unit, state in zip(units, states):
        os.replace(unit.pending_checkpoint_path, unit.checkpoint_path)
        unit.save_checkpoint_history(state)


def drop_pending(unit: Unit) -> None:
    """A unit that starts over (`--restart`) or has finished keeps no half-made commit."""
    remove(unit.pending_checkpoint_path)


def settle_group(units: list[Unit]) -> None:
    """Finish or undo a commit a kill cut short, for every member with a pending file."""
    for unit in units:
        settle(unit)


def settle(unit: Unit) -> None:
    pending = unit.pending_checkpoint_path
    if not pending.exists():
        return
    state, own = _read(pending), _read(unit.checkpoint_path)
    if state is not None and own is not None and own["step"] > state["step"]:
        remove(pending)  # left from before the unit trained on (alone, or with --restart): stale
        return
    if state is not None and all(_holds(Path(unit.path, member).resolve(), state["step"])
                                 for member in state.get(_GROUP, [])):
        os.replace(pending, unit.checkpoint_path)
        unit.save_checkpoint_history(state)
    else:
        remove(pending)


def _holds(member: Path, step: int) -> bool:
    """Whether a member's state at `step` was written: pending, renamed already, or the
    member finished since (its checkpoint dropped)."""
    if Unit(member).finished:
        return True
    for name in (PENDING, "checkpoint.pt"):
        state = _read(member / name)
        if state is not None and state["step"] == step:
            return True
    return False


def _read(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return load_checkpoint(path)
    except Exception:  # noqa: BLE001 - a damaged pending file is one that was not written whole
        return None
