"""`ticketlab bench` killed (SIGKILL) at seeded moments, then run again: the suite finishes
and its results and page equal an uninterrupted run's, number for number.

The suite batches (IMP's seeds, PaI's seeds and densities), so the kills land inside
batches too: at a member's checkpoint while a batch commits its step, where resuming
member by member would give other sums. Timing (seconds, when and where the page was
built) is the only thing allowed to differ."""
from __future__ import annotations

import json
import random
import signal
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
from fault_harness import Forker, write_log  # noqa: E402

from ticketlab.bench.page import render_page  # noqa: E402
from ticketlab.core.faults import FAULT_ENV  # noqa: E402

SEED = 4242
def bench_args(suite: Path, root: Path) -> list[str]:
    return ["bench", str(suite), "--runs-dir", str(root / "runs"), "--out", str(root / "page" / "index.html"),
            "--checkpoint-every", "3it", "--quiet"]


def numbers(root: Path) -> tuple[list[dict], str]:
    """The records and the page with timing left out: seconds, and the provenance's time and host."""
    doc = json.loads((root / "page" / "bench.json").read_text())
    for record in doc["records"]:
        record["seconds"] = 0.0
        record["provenance"] = "p"
    doc["provenance"] = [dict(p, id="p", created="-", host="-", commit="-") for p in doc["provenance"]]
    return doc["records"], render_page(doc)


@pytest.fixture(scope="module")
def forker():
    f = Forker()
    yield f
    f.close()


def test_a_killed_bench_resumes_to_the_uninterrupted_results_and_page(tmp_path, forker, tiny_suite):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite))
    whole, log = tmp_path / "whole", tmp_path / "writes.log"
    done = forker.run(bench_args(suite, whole), tmp_path / "whole.log", TICKETLAB_FAULT_LOG=str(log))
    assert done.code == 0, done
    writes = write_log(log)
    pending = [i for i, (kind, path) in enumerate(writes) if path.endswith("checkpoint.next.pt")]
    assert pending, "no batch committed a checkpoint: the suite did not batch"
    rng = random.Random(SEED)
    # One kill while a batch commits its step (a member's part written, the others' not yet),
    # one at any write at all: result, mask, weights, index, the page.
    first = rng.choice(pending)
    kinds = [kind for kind, _ in writes]
    faults = [f"kill:checkpoint:{kinds[:first + 1].count('checkpoint')}:{rng.choice(('before', 'after'))}"]
    later = rng.randrange(first + 1, len(writes))
    faults.append(f"kill:{kinds[later]}:{kinds[first + 1:later + 1].count(kinds[later])}:before")
    cut = tmp_path / "cut"
    for fault in faults:
        outcome = forker.run(bench_args(suite, cut), tmp_path / "cut.log", **{FAULT_ENV: fault})
        assert outcome.signal == signal.SIGKILL, (fault, outcome)
    finished = forker.run(bench_args(suite, cut), tmp_path / "cut.log")
    assert finished.code == 0, finished
    assert numbers(cut) == numbers(whole)
    leftovers = [p for p in (cut / "runs").rglob("*") if p.name.endswith((".tmp", ".next.pt"))]
    assert leftovers == []


def test_a_second_bench_trains_nothing(tmp_path, forker, tiny_suite):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite))
    first = forker.run(bench_args(suite, tmp_path), tmp_path / "first.log")
    assert first.code == 0, first
    before = sorted(p.name for p in (tmp_path / "runs").iterdir())
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*.safetensors")}
    again = forker.run([*bench_args(suite, tmp_path)[:-1]], tmp_path / "again.log")
    assert again.code == 0, again
    assert "0 to train" in again.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == before
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("*.safetensors")} == stamp
