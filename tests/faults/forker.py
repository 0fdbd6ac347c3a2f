"""A process that imports ticketlab once and forks one child per job, so that each run of
the fault tests is a process of its own (SIGKILLed where its fault says) without paying
the imports again.

It reads one JSON job per line on stdin, {"argv": [...], "env": {...}, "log": PATH}, runs
`ticketlab ARGV` in a forked child with that environment, its stdout and stderr in LOG,
and answers one JSON line: {"code": exit status or null, "signal": signal or null}
(`serve` has the other jobs).
Nothing here computes with torch before forking: a child starts with no thread pool.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402,F401  (imported once, here, for every child's report)
import torch  # noqa: E402,F401
import torch._dynamo  # noqa: E402,F401  (what a spec's preflight on the meta device imports: 2 s)

import ticketlab.analysis.report  # noqa: E402,F401
import ticketlab.api  # noqa: E402,F401
import ticketlab.methods.units  # noqa: E402,F401
from ticketlab.cli.main import main  # noqa: E402


def child(job: dict) -> None:
    os.environ.update(job.get("env", {}))
    # One thread: the runs are tiny, and the suite shares its cores (every run compared
    # with another runs so too, so the results stay bit-identical between them).
    torch.set_num_threads(1)
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    code = 1
    try:
        code = main(job["argv"])
    except BaseException:  # noqa: BLE001 - a traceback is a finding: keep it in the log
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def serve() -> None:
    """Jobs: run (the default: fork, wait, answer), {"start": true, ...} (fork, answer its
    pid at once: for processes that must run side by side) and {"wait": PID}."""
    for line in sys.stdin:
        job = json.loads(line)
        if "wait" in job:
            print(json.dumps(_status(job["wait"])), flush=True)
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            child(job)
        print(json.dumps({"pid": pid} if job.get("start") else _status(pid)), flush=True)


def _status(pid: int) -> dict:
    _, status = os.waitpid(pid, 0)
    return {"code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}


if __name__ == "__main__":
    serve()
