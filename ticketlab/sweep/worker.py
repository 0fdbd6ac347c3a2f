"""One sweep run, wherever it executes: a local worker process or a Ray task.

A worker writes only its run directory (the run's files and its log under
`logs/attempt-N.log`); the SQLite index is the driver's. Because the run directory is
addressed by the spec's hash, a retried attempt finds the checkpoint of the one before
and resumes from it. A worker loads the plugins the driver loaded, which the backend names
in its environment ($TICKETLAB_PLUGINS), before it reads the spec.

    python -m ticketlab.sweep.worker PAYLOAD_JSON   # what the local backend starts
"""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path


def log_path(runs_dir: str, run_id: str, attempt: int) -> Path:
    return Path(runs_dir) / run_id / "logs" / f"attempt-{attempt}.log"


def run_one(payload: dict) -> dict:
    """Run the payload's spec to the end (or reuse it); returns its id and metrics."""
    import torch

    from .. import api
    from ..core.plugins import load_plugins
    from ..core.progress import LineProgress
    from ..data.budget import data_budget_setting
    from ..specs import spec_from_dict

    load_plugins()  # the driver's, from $TICKETLAB_PLUGINS (once per process: a Ray worker runs many tasks)
    spec = spec_from_dict(payload["spec"])
    if payload.get("threads"):
        torch.set_num_threads(int(payload["threads"]))
    log = log_path(payload["runs_dir"], spec.run_id, payload["attempt"])
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", buffering=1) as stream, contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        print(f"attempt {payload['attempt']} of {spec.run_id}", file=stream)
        result = api.run(spec, runs_dir=payload["runs_dir"], data_dir=payload.get("data_dir"),
                         device=payload.get("device"), progress=LineProgress(stream=stream, every_s=30),
                         checkpoint_every=payload.get("checkpoint_every", "1ep"), record=False,
                         compile=payload.get("compile"), precision=payload.get("precision", "auto"),
                         tensorboard=payload.get("tensorboard"),
                         allow_disconnected=bool(payload.get("allow_disconnected", False)),
                         data_budget=data_budget_setting(None))  # $TICKETLAB_DEVICE_DATA_BUDGET, as the driver's
    return {"run_id": result.run_id, "reused": result.reused, "metrics": result.metrics}


def main(argv: list[str] | None = None) -> int:
    payload = json.loads((argv or sys.argv[1:])[0])
    try:
        result = run_one(payload)
    except Exception as err:  # the driver reads this line and decides whether to retry
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    # The driver trusts this, not its own view of the run directory, which on a synced
    # or network filesystem may not show the result yet.
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
