"""Shared fixtures: tiny specs on the built-in synthetic dataset, an isolated runs dir."""
from __future__ import annotations

import os

import pytest

from ticketlab.specs import TrainSpec


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    path = tmp_path / "runs"
    monkeypatch.setenv("TICKETLAB_RUNS", str(path))
    return path


@pytest.fixture
def tiny_spec() -> TrainSpec:
    """A few dozen SGD steps of a small MLP on the synthetic dataset: under a second."""
    return TrainSpec(model="mlp_32", dataset="synthetic", duration="6ep", batch_size=32, lr=0.05,
                     momentum=0.9, eval_every="2ep")


@pytest.fixture
def real_device() -> str:
    """The real device for the tests that need one (a GPU's kernels, autocast and layouts,
    which the simulated device of `tests/device_check.py` cannot check): CUDA when present,
    or what $TICKETLAB_TEST_DEVICE names (cuda, cuda:1, cpu, ...). Without either the test
    is skipped; a named CUDA device that is missing fails it."""
    import torch

    name = os.environ.get("TICKETLAB_TEST_DEVICE", "")
    if not name:
        if not torch.cuda.is_available():
            pytest.skip("needs CUDA (or TICKETLAB_TEST_DEVICE=cpu to run it on the CPU)")
        return "cuda"
    if torch.device(name).type == "cuda" and not torch.cuda.is_available():
        pytest.fail(f"TICKETLAB_TEST_DEVICE={name}, but torch sees no CUDA device here")
    return name


@pytest.fixture
def restore_tables():
    """Put back, after the test, every registry table given to the returned function, so
    that what a test registers never reaches the next one."""
    saved = []

    def keep(*tables: dict) -> None:
        saved.extend((table, dict(table)) for table in tables)

    yield keep
    for table, before in saved:
        table.clear()
        table.update(before)


@pytest.fixture
def notes():
    """A progress that keeps every note a run says, in `.lines`."""
    from ticketlab.core.progress import Progress

    class Notes(Progress):
        def __init__(self):
            self.lines: list[str] = []

        def note(self, message: str) -> None:
            self.lines.append(message)

    return Notes()


@pytest.fixture
def refused(capsys):
    """Runs a command line that must be refused and returns its error: exit code 2, one line
    on stderr that starts `ticketlab: error: `, never a traceback."""
    from ticketlab.cli.main import main

    def run(*args) -> str:
        code = main(list(args))
        _, err = capsys.readouterr()
        assert code == 2, err
        assert err.startswith("ticketlab: error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1
        return err
    return run


@pytest.fixture
def interrupt_at():
    """A progress that stops training at a given step, as Ctrl-C would: `interrupt_at(25)`."""
    from ticketlab.core.progress import Progress

    class InterruptAt(Progress):
        def __init__(self, step):
            self.step = step

        def advance(self, done):
            if done == self.step:
                raise KeyboardInterrupt
    return InterruptAt
