"""The fault tests' shared pieces: `fault_harness.py` beside this file, and one forking runner
of ticketlab processes for the whole session."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_harness import Forker  # noqa: E402


@pytest.fixture(scope="session")
def forker():
    runner = Forker()
    yield runner
    runner.close()
