"""A batch's checkpoints commit as one step: whatever a kill leaves, settling puts every
member at one step, the newest that every member had written whole."""
from __future__ import annotations

import torch

from ticketlab.store import Unit
from ticketlab.store.group_checkpoint import PENDING, save_group, settle_group


def state(step: int) -> dict:
    return {"step": step, "model": {"w": torch.full((2,), float(step))}, "history": [{"step": step}]}


def members(tmp_path, count=3) -> list[Unit]:
    units = []
    for i in range(count):
        (tmp_path / f"run{i}").mkdir()
        units.append(Unit(tmp_path / f"run{i}"))
    return units


def steps(units) -> list[int | None]:
    return [u.load_checkpoint()["step"] if u.load_checkpoint() else None for u in units]


def test_a_commit_leaves_every_member_at_its_step_and_nothing_pending(tmp_path):
    units = members(tmp_path)
    save_group(units, [state(3)] * 3)
    save_group(units, [state(6)] * 3)
    assert steps(units) == [6, 6, 6]
    assert not any((u.path / PENDING).exists() for u in units)
    assert (units[1].path / "history.json").read_text().count('"step": 6') == 1


def test_a_kill_while_writing_the_pending_states_falls_back_to_the_previous_step(tmp_path):
    units = members(tmp_path)
    save_group(units, [state(3)] * 3)
    for unit in units[:2]:  # the third member's part was never written
        unit.save_checkpoint({**state(6), "batch_members": [f"../run{i}" for i in range(3)]}, name=PENDING)
    settle_group(units)
    assert steps(units) == [3, 3, 3] and not any((u.path / PENDING).exists() for u in units)


def test_a_kill_while_renaming_finishes_the_commit(tmp_path):
    units = members(tmp_path)
    save_group(units, [state(3)] * 3)
    for unit in units:
        unit.save_checkpoint({**state(6), "batch_members": [f"../run{i}" for i in range(3)]}, name=PENDING)
    (units[0].path / PENDING).replace(units[0].checkpoint_path)  # one renamed, then the kill
    settle_group(units)
    assert steps(units) == [6, 6, 6] and not any((u.path / PENDING).exists() for u in units)


def test_a_damaged_pending_state_counts_as_not_written(tmp_path):
    units = members(tmp_path, 2)
    save_group(units, [state(3)] * 2)
    for unit in units:
        unit.save_checkpoint({**state(6), "batch_members": ["../run0", "../run1"]}, name=PENDING)
    data = (units[1].path / PENDING).read_bytes()
    (units[1].path / PENDING).write_bytes(data[: len(data) // 2])
    settle_group(units)
    assert steps(units) == [3, 3]


def test_the_first_commit_cut_short_leaves_no_checkpoint(tmp_path):
    units = members(tmp_path, 2)
    units[0].save_checkpoint({**state(3), "batch_members": ["../run0", "../run1"]}, name=PENDING)
    settle_group(units)
    assert steps(units) == [None, None]


def test_a_pending_state_older_than_the_units_own_checkpoint_is_dropped(tmp_path):
    units = members(tmp_path, 2)
    save_group(units, [state(3)] * 2)
    units[0].save_checkpoint({**state(6), "batch_members": ["../run0", "../run1"]}, name=PENDING)
    units[1].save_checkpoint({**state(6), "batch_members": ["../run0", "../run1"]}, name=PENDING)
    (units[0].path / PENDING).replace(units[0].checkpoint_path)  # cut between the renames ...
    units[1].save_checkpoint(state(9))  # ... then the second trained on alone, past that step
    settle_group(units)
    assert steps(units) == [6, 9] and not (units[1].path / PENDING).exists()


def test_a_member_that_finished_since_counts_as_written(tmp_path):
    units = members(tmp_path, 2)
    save_group(units, [state(3)] * 2)
    for unit in units:
        unit.save_checkpoint({**state(6), "batch_members": ["../run0", "../run1"]}, name=PENDING)
    (units[0].path / PENDING).replace(units[0].checkpoint_path)
    units[0].finish({"done": True})  # it went on alone to its end
    settle_group(units)
    assert steps(units)[1] == 6
