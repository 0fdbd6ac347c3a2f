"""The fault tests' shared pieces: `fault_harness.py` beside this file, and one forking runner
of ticketlab processes for the whole session."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_harness import Forker, contents, method_specs, run_args, write_log, write_spec  # noqa: E402
from ticketlab.core.faults import LOG_ENV  # noqa: E402


@pytest.fixture(scope="session")
def forker():
    runner = Forker()
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def straight(tmp_path_factory, forker):
    """`straight(method)`, once per method: an uninterrupted run of its tiny spec, as
    (spec file, the writes it made, its folder's contents)."""
    done = {}

    def get(method: str):
        if method not in done:
            folder = tmp_path_factory.mktemp(f"straight_{method}")
            spec_file = write_spec(folder, method_specs()[method])
            log = folder / "writes.log"
            outcome = forker.run(run_args(spec_file, folder / "runs"), folder / "out.log", **{LOG_ENV: str(log)})
            assert outcome.code == 0, outcome
            done[method] = spec_file, write_log(log), contents(folder / "runs")
        return done[method]
    return get
