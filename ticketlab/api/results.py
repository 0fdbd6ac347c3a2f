"""What a run hands back, and how to read a finished run's trained networks."""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..store import RunDir, RunStore


@dataclass
class RunResult:
    run_id: str
    run_dir: str
    status: str
    metrics: dict
    reused: bool  # True when the spec had finished before and nothing was computed

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "run_dir": self.run_dir, "status": self.status,
                "reused": self.reused, "metrics": self.metrics}


def result_of(run_dir: RunDir, reused: bool) -> RunResult:
    return RunResult(run_id=run_dir.run_id, run_dir=str(run_dir.path), status="finished",
                     metrics=run_dir.result().get("metrics", {}), reused=reused)


def load_routed(run: str | os.PathLike, level: int, *, runs_dir: str | os.PathLike | None = None,
                device: str = "cpu"):
    """The trained network of one level of a Routing-the-Lottery run; `predict(x, context)`
    routes each input through the mask of its context (subset id, an int or one per input)."""
    from ..methods.rtl_routed import load_routed as load

    return load(RunStore(runs_dir).open(os.fspath(run)), level, device)
