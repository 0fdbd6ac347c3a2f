"""SIGKILL at a store write, then the same command again: the run resumes and ends with the
files of a run never interrupted (results less their timing, masks, weights, histories,
reports), no temporary or damaged file left, and the index agreeing with the folders.

Each method is killed twice in one folder: once at a checkpoint write of its own run (in
the middle of one of its units) and once at a write of another kind, then run to its
end. The other kind is fixed
per method so that together they cover checkpoints, the index, results and reports;
which write of each kind, and whether just before or just after it lands, is drawn from
SEED among the writes an uninterrupted run makes."""
from __future__ import annotations

import json
import random
import signal

import pytest

from fault_harness import contents, index_matches_folders, leftovers, method_specs, run_args
from ticketlab.core.faults import FAULT_ENV
from ticketlab.store.checkpoint import load_checkpoint
from ticketlab.store.unit import read_result

SEED = 1729
SPECS = method_specs()
OTHER_KIND = {"train": "index", "imp": "report", "pai": "result", "dst": "mask", "lmc": "weights",
              "elastic": "index", "rst": "json", "rtl": "weights", "pools": "weights", "supermask": "mask",
              "early_bird": "result"}
# The write in the middle of a method's own unit: a checkpoint, or for Lottery Pools, whose
# search checkpoints nothing but its record after each candidate, that record.
OWN_KIND = {"pools": "json"}


def kill_points(method: str, writes: list[tuple[str, str]]) -> list[str]:
    """Two `TICKETLAB_FAULT` values for one folder, in the order they fire: a checkpoint
    write of the method's own run (not of a run it reads first), and a write of
    OTHER_KIND[method], each drawn among `writes` (an uninterrupted run's, in order). The
    second counts from where the first killed: the resumed run makes at least the writes
    that were left, so it lands."""
    rng = random.Random(f"{SEED}:{method}")
    own = f"/{SPECS[method].run_id}/"
    chosen = []
    first = OWN_KIND.get(method, "checkpoint")
    for kind in (first, OTHER_KIND[method]):
        where = [i for i, (k, path) in enumerate(writes) if k == kind and (kind != first or own in path)]
        assert where, f"a {method} run makes no {kind} write to kill it at"
        chosen.append((rng.choice(where), kind, rng.choice(("before", "after"))))
    (first, kind1, when1), (second, kind2, when2) = sorted(chosen)
    kinds = [k for k, _ in writes]
    n1 = kinds[:first + 1].count(kind1)
    n2 = kinds[first + 1:second + 1].count(kind2) or 1
    return [f"kill:{kind1}:{n1}:{when1}", f"kill:{kind2}:{n2}:{when2}"]


def test_the_kill_points_cover_checkpoints_the_index_results_and_reports():
    assert {"index", "result", "report"} <= set(OTHER_KIND.values()) and set(OTHER_KIND) == set(SPECS)
    own = f"runs/{SPECS['imp'].run_id}/level_01/checkpoint.pt"
    writes = [("spec", "spec.json"), ("checkpoint", own), ("result", "result.json"), ("checkpoint", own),
              ("report", "report.md"), ("report", "report.csv")]
    points = kill_points("imp", writes)
    assert points[0].startswith("kill:checkpoint:") and points[1].startswith("kill:report:")


def assert_whole(runs) -> list:
    """Everything a killed run left in place is whole; returns the checkpoints of units
    that have not finished (a rerun resumes from them)."""
    for path in [*runs.rglob("checkpoint.pt"), *runs.rglob("rewind.pt")]:
        load_checkpoint(path)
    for path in runs.rglob("result.json"):
        json.loads(path.read_text())
    return [p for p in runs.rglob("checkpoint.pt") if read_result(p.parent / "result.json") is None]


@pytest.mark.parametrize("method", list(SPECS))
def test_a_run_killed_at_writes_resumes_to_the_files_of_an_uninterrupted_one(method, straight, forker, tmp_path):
    spec_file, writes, expected = straight(method)
    runs = tmp_path / "runs"
    for i, point in enumerate(kill_points(method, writes)):
        killed = forker.run(run_args(spec_file, runs), tmp_path / f"killed_{i}.log", **{FAULT_ENV: point})
        assert killed.signal == signal.SIGKILL and "Traceback" not in killed.output, (point, killed)
        checkpoints = assert_whole(runs)
    again = forker.run(run_args(spec_file, runs), tmp_path / "again.log")  # as the user would
    assert again.code == 0 and "Traceback" not in again.output, again
    if checkpoints:
        assert "resuming from step" in again.output
    assert leftovers(runs) == [] or _stale_top_checkpoint_only(runs)
    assert contents(runs) == expected
    index_matches_folders(runs)


def _stale_top_checkpoint_only(runs) -> bool:
    """A run killed between writing its own result.json and dropping its checkpoint is
    reused as finished, so nothing removes that checkpoint (it is whole and harmless)."""
    return all(p.endswith("/checkpoint.pt") and p.count("/") == 1 for p in leftovers(runs))


# Kill points that found bugs once, kept: the RST transformation killed as it logs a step
# after its last checkpoint (the resumed unit logged that step twice), and an elastic run
# killed between its moved weights and its mask (the rerun never wrote the mask).
FOUND = [("rst", "kill:json:8:after", "rst transform cycle 1/1: resuming from step 6/"),
         ("elastic", "kill:mask:3:before", None)]


@pytest.mark.parametrize("method, point, says", FOUND)
def test_kill_points_that_found_bugs(method, point, says, straight, forker, tmp_path):
    spec_file, _, expected = straight(method)
    runs = tmp_path / "runs"
    killed = forker.run(run_args(spec_file, runs), tmp_path / "killed.log", **{FAULT_ENV: point})
    assert killed.signal == signal.SIGKILL, killed
    again = forker.run(run_args(spec_file, runs), tmp_path / "again.log")
    assert again.code == 0 and (says is None or says in again.output), again
    assert contents(runs) == expected
