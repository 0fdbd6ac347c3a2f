"""SIGKILL in the middle of an epoch of a run whose data streams from host memory (the
device-data budget set, through the environment, below the dataset's size): the rerun
resumes from the checkpoint and ends with the files of an uninterrupted run that kept its
data on the device, byte for byte.

The checkpoint write to kill at, and whether just before or just after it lands, is drawn
from SEED among the checkpoint writes of the uninterrupted run; each lands inside an epoch
(`CHECKPOINT_EVERY` steps), so the resumed epoch starts at a step other than its first."""
from __future__ import annotations

import random
import signal

from fault_harness import CHECKPOINT_EVERY, TRAIN, contents, index_matches_folders, leftovers, method_specs, run_args
from ticketlab.core.faults import FAULT_ENV
from ticketlab.data.budget import DATA_BUDGET_ENV

SEED = 2718
STREAM = {DATA_BUDGET_ENV: "1KB"}  # the synthetic dataset takes 198 KiB: none of it fits


def test_a_streaming_run_killed_mid_epoch_resumes_to_the_files_of_a_device_resident_one(straight, forker, tmp_path):
    spec_file, writes, expected = straight("train")
    own = f"/{method_specs()['train'].run_id}/"
    checkpoints = [path for kind, path in writes if kind == "checkpoint" and own in path]
    steps_per_epoch = 512 // TRAIN.batch_size
    every = int(CHECKPOINT_EVERY.removesuffix("it"))
    assert checkpoints and all((n * every) % steps_per_epoch for n in range(1, len(checkpoints) + 1))
    rng = random.Random(SEED)
    when = rng.choice(("before", "after"))
    # Killed before the first checkpoint lands, a run has none to resume from: not this test.
    point = f"kill:checkpoint:{rng.randint(2 if when == 'before' else 1, len(checkpoints))}:{when}"
    runs = tmp_path / "runs"
    killed = forker.run(run_args(spec_file, runs), tmp_path / "killed.log", **STREAM, **{FAULT_ENV: point})
    assert killed.signal == signal.SIGKILL and "Traceback" not in killed.output, (point, killed)
    assert "streams to cpu batch by batch" in killed.output
    again = forker.run(run_args(spec_file, runs), tmp_path / "again.log", **STREAM)
    assert again.code == 0 and "Traceback" not in again.output, again
    assert "resuming from step" in again.output and "stays in host memory" in again.output
    assert leftovers(runs) == []
    assert contents(runs) == expected  # weights, history, results: those of the device-resident run
    index_matches_folders(runs)
