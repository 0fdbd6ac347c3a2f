"""Fault injection at the store's writes, for the fault tests; off unless asked for.

Every write the store makes calls `at_write(kind, when)` twice: `"before"`, once the new
content sits complete in its temporary file but is not yet in place (the moment a crash
could leave a half-written file behind), and `"after"`, once it is in place. The kind
names the file by its role (`write_kind`); the SQLite index is `"index"`.

`TICKETLAB_FAULT` asks for faults, comma separated, each `ACTION:KIND:N[:WHEN]`:

- `kill:checkpoint:3` - SIGKILL this process before the 3rd checkpoint write lands;
  `kill:result:2:after` - right after the 2nd result.json is in place;
- `enospc:index:1` - the 1st index write fails as on a full disk.

`N` counts the writes of that kind in this process, from 1. `TICKETLAB_FAULT_LOG=PATH`
appends one line per write (`KIND NAME`), so a test can learn which writes a run makes
and choose its kill points among them. With neither variable set, a write pays one
environment lookup.
"""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

FAULT_ENV = "TICKETLAB_FAULT"
LOG_ENV = "TICKETLAB_FAULT_LOG"
ACTIONS = ("kill", "enospc")
WHENS = ("before", "after")
KINDS = ("checkpoint", "mask", "weights", "result", "status", "history", "spec", "index", "report", "json", "file")

_counts: dict[str, int] = {}  # writes seen so far in this process, per kind


def write_kind(path: str | os.PathLike) -> str:
    """The role of the file at `path`: checkpoint (*.pt), mask, weights (other tensors),
    result, status, history, spec (spec.json, spec.yaml), report (under reports/), or
    the suffix of any other file."""
    path = Path(path)
    name = path.name
    if name.endswith(".pt"):
        return "checkpoint"
    if name.endswith(".safetensors"):
        return "mask" if name.startswith("mask") else "weights"
    stem = name.split(".")[0]
    if name in ("result.json", "status.json", "history.json"):
        return stem
    if name in ("spec.json", "spec.yaml"):
        return "spec"
    if "reports" in path.parts[:-1]:
        return "report"
    return path.suffix.lstrip(".") or "file"


def at_write(kind: str, when: str, name: str = "") -> None:
    """The hook of every store write; does nothing unless a fault or the log is asked for."""
    faults, log = os.environ.get(FAULT_ENV), os.environ.get(LOG_ENV)
    if not faults and not log:
        return
    if when == "before":
        _counts[kind] = _counts.get(kind, 0) + 1
        if log:
            with open(log, "a") as f:
                f.write(f"{kind} {name}\n")
    for action, fault_kind, n, fault_when in parse(faults or ""):
        if fault_kind == kind and n == _counts.get(kind, 0) and fault_when == when:
            _fire(action, name)


def parse(text: str) -> list[tuple[str, str, int, str]]:
    """`TICKETLAB_FAULT` as (action, kind, n, when) tuples; a malformed entry is an error
    (a test that asks for a fault must get it, not a run without one)."""
    out = []
    for entry in filter(None, (e.strip() for e in text.split(","))):
        parts = entry.split(":")
        when = parts[3] if len(parts) == 4 else "before"
        ok = (len(parts) in (3, 4) and parts[0] in ACTIONS and parts[1] in KINDS and parts[2].isdigit()
              and int(parts[2]) > 0 and when in WHENS and not (parts[0] == "enospc" and when == "after"))
        if not ok:
            raise ValueError(f"{FAULT_ENV}={text!r}: '{entry}' is not ACTION:KIND:N[:WHEN] with ACTION one of "
                             f"{', '.join(ACTIONS)}, KIND one of {', '.join(KINDS)}, N >= 1 and WHEN one of "
                             f"{', '.join(WHENS)} (a full disk fails a write before it lands: never after).")
        out.append((parts[0], parts[1], int(parts[2]), when))
    return out


def reset() -> None:
    """Forget the writes counted so far (a test that injects faults in its own process)."""
    _counts.clear()


def _fire(action: str, name: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC) + " (injected)", name)
