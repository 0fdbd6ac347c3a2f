"""The Python API, and the orchestrator behind every command: run any experiment spec,
reusing finished work and resuming the rest.

- `run` (`single.py`): one spec; the runs its spec reads (`Spec.sources()`) run first.
- `run_many` (`batch.py`): several, those that can share one stacked computation together.
- `lifecycle.py`: the states a run directory goes through around its work.
- `results.py`: what a run hands back, and the trained networks of a finished run.
"""
from .batch import run_many
from .results import RunResult, load_routed
from .single import run

__all__ = ["RunResult", "load_routed", "run", "run_many"]
