"""Where a sweep's runs execute: in this process, in local worker processes, or on Ray.

Every backend has the same three calls: `submit(payload) -> handle`, `wait(handles,
timeout) -> [(handle, ok, value)]` for the attempts that ended (value: the worker's
result or the error), and `close()`. Retries, progress and the index are the driver's.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO

from ..core.errors import TicketlabError
from ..core.plugins import ENV, child_environment, loaded_plugins
from ..data.budget import DATA_BUDGET_ENV

BACKENDS = ("local", "ray", "serial")


class SerialBackend:
    """One run after another in this process (a reference, and the simplest for debugging)."""

    slots = 1

    def __init__(self):
        self._results: dict[int, tuple[bool, object]] = {}
        self._next = 0

    def submit(self, payload: dict) -> int:
        from .worker import run_one
        handle, self._next = self._next, self._next + 1
        try:
            self._results[handle] = (True, run_one(payload))
        except Exception as err:  # noqa: BLE001 - recorded as the attempt's error
            self._results[handle] = (False, f"{type(err).__name__}: {err}")
        return handle

    def wait(self, handles, timeout: float):
        return [(h, *self._results.pop(h)) for h in handles if h in self._results]

    def close(self) -> None:
        pass


@dataclass(eq=False)  # a handle: hashed by identity
class _Process:
    proc: subprocess.Popen
    output: IO[str]
    errors: IO[str]
    gpus: tuple[int, ...] = field(default_factory=tuple)


class LocalBackend:
    """A pool of worker processes sized to the cores (or GPUs): one process per attempt.

    A process per attempt (rather than a long-lived pool) means a worker killed by the
    kernel, a signal or a crash costs only its own run, which is then retried."""

    def __init__(self, *, cpus_per_run: int = 1, gpus_per_run: int = 0, max_concurrent: int | None = None):
        cores = os.cpu_count() or 1
        if cpus_per_run < 1:
            raise TicketlabError(f"--cpus-per-run must be at least 1, got {cpus_per_run}.")
        slots = max(1, cores // cpus_per_run)
        self.free_gpus: list[int] = []
        if gpus_per_run:
            count = _cuda_devices()
            if gpus_per_run > count:
                raise TicketlabError(f"--gpus-per-run {gpus_per_run} asks for more GPUs than this machine has "
                                     f"({count}). Use at most {count}, or the ray backend on a cluster.")
            slots = min(slots, count // gpus_per_run)
            self.free_gpus = list(range(count))
        self.gpus_per_run, self.threads = gpus_per_run, cpus_per_run
        self.slots = max(1, min(slots, max_concurrent or slots))
        self.live: set[_Process] = set()

    def submit(self, payload: dict) -> _Process:
        # $TICKETLAB_PLUGINS names every plugin loaded here: the worker loads them before it
        # reads the spec, which may name what they register
        env = dict(child_environment(), OMP_NUM_THREADS=str(self.threads), MKL_NUM_THREADS=str(self.threads))
        gpus: tuple[int, ...] = ()
        if self.gpus_per_run:
            gpus, self.free_gpus = tuple(self.free_gpus[:self.gpus_per_run]), self.free_gpus[self.gpus_per_run:]
        # Each worker sees only its own GPUs, and none without --gpus-per-run (as Ray does):
        # otherwise every worker of a many-core machine would crowd onto cuda:0.
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus))
        payload = dict(payload, threads=self.threads)
        # stdout and stderr to files of the driver's, not pipes: a chatty worker never blocks
        output, errors = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
        proc = subprocess.Popen([sys.executable, "-m", "ticketlab.sweep.worker", json.dumps(payload)], env=env,
                                stdin=subprocess.DEVNULL, stdout=output, stderr=errors)
        handle = _Process(proc, output, errors, gpus)
        self.live.add(handle)
        return handle

    def wait(self, handles, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            done = [h for h in handles if h.proc.poll() is not None]
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        out = []
        for h in done:
            self.live.discard(h)
            error, result = _last_line(h.errors), _last_line(h.output)
            self.free_gpus = sorted(self.free_gpus + list(h.gpus))
            code = h.proc.returncode
            if code == 0:
                try:
                    out.append((h, True, json.loads(result)))
                except ValueError:
                    out.append((h, False, f"the worker ended without a result ({result or 'no output'})"))
            elif code < 0:  # killed: the signal is the news, whatever it printed before
                why = f"the worker was killed by signal {-code}"
                out.append((h, False, why + (f" (its last words: {error})" if error else "")))
            else:
                out.append((h, False, error or f"the worker exited with status {code}"))
        return out

    def close(self) -> None:
        # The driver stops (an error, Ctrl-C): stop its workers too; each run keeps its
        # last checkpoint and resumes from it when the sweep is submitted again.
        for h in self.live:
            h.proc.terminate()
        for h in self.live:
            try:
                h.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                h.proc.kill()
        self.live.clear()


class RayBackend:
    """Each run a Ray task with its own resources, on a running cluster or a local one."""

    def __init__(self, *, address: str | None = None, cpus_per_run: int = 1, gpus_per_run: int = 0,
                 max_concurrent: int | None = None, num_cpus: int | None = None):
        import ray  # make_backend has checked that it is installed and the address answers
        self.ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            if not address:
                # Ray starts its workers at nice 15; on a machine with anything else running,
                # a local sweep's runs (the work the user waits for) would then crawl.
                os.environ.setdefault("RAY_worker_niceness", "0")
            try:
                # A task's error comes back to the driver; its log is in the run directory.
                ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except ConnectionError as err:
                raise TicketlabError(f"Cannot connect to a Ray cluster at {address}: {err}. Start one with "
                                     "`ray start --head`, or leave out --address to start a local one.") from None
        from .worker import run_one
        # Ray's own retries are off: the driver retries, so a killed worker and a failed
        # run follow one rule, and the index records every attempt's outcome.
        # A task loads the plugins loaded here (run_one, from $TICKETLAB_PLUGINS) before it reads
        # its spec; on a cluster, a plugin file must lie at the same path on every node.
        # So does the device-data budget of this process, which a task reads as local workers do.
        env_vars = {ENV: child_environment()[ENV]} if loaded_plugins() else {}
        if os.environ.get(DATA_BUDGET_ENV):
            env_vars[DATA_BUDGET_ENV] = os.environ[DATA_BUDGET_ENV]
        options = {"runtime_env": {"env_vars": env_vars}} if env_vars else {}
        self.task = ray.remote(run_one).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0,
                                                **options)
        self.slots = max_concurrent or 1_000_000  # Ray queues tasks by their resources

    def submit(self, payload: dict):
        return self.task.remote(payload)

    def wait(self, handles, timeout: float):
        if not handles:
            return []
        # Returns at the timeout with whatever has ended by then.
        ready, _ = self.ray.wait(list(handles), num_returns=len(handles), timeout=timeout)
        out = []
        for ref in ready:
            try:
                out.append((ref, True, self.ray.get(ref)))
            except Exception as err:  # noqa: BLE001 - task error or a dead worker: the driver retries
                cause = getattr(err, "cause", None) or err
                lines = str(cause).strip().splitlines() or [""]
                out.append((ref, False, f"{type(cause).__name__}: {lines[-1]}"))
        return out

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


def _last_line(stream: IO[str]) -> str:
    stream.seek(0)
    lines = stream.read().strip().splitlines()
    stream.close()
    return lines[-1] if lines else ""


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on an address nothing listens at (Ray itself would retry for minutes)."""
    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise TicketlabError(f"Ray address '{address}' is not HOST:PORT (e.g. 10.0.0.5:6379, "
                             "ray://10.0.0.5:10001, or auto).")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise TicketlabError(f"Cannot reach a Ray cluster at {address} ({err}). Check the address "
                             "(`ray status` on the head node prints it) and that its port is open here.") from None


def _cuda_devices() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_backend(name: str, address: str | None = None) -> None:
    """The cheap checks, made before anything runs (even when every run has finished)."""
    if name not in BACKENDS:
        from ..core.errors import UnknownNameError
        raise UnknownNameError("sweep backend", name, list(BACKENDS))
    if address and name != "ray":
        raise TicketlabError(f"--address is for the ray backend; the {name} backend runs on this machine.")
    if name == "ray":
        import importlib.util
        if importlib.util.find_spec("ray") is None:
            raise TicketlabError("The ray backend needs Ray: pip install 'ticketlab[ray]' (or use --backend local).")
        if address and address != "auto":
            check_reachable(address)


def make_backend(name: str, *, address: str | None = None, cpus_per_run: int = 1, gpus_per_run: int = 0,
                 max_concurrent: int | None = None):
    check_backend(name, address)
    if name == "local":
        return LocalBackend(cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run, max_concurrent=max_concurrent)
    if name == "ray":
        return RayBackend(address=address, cpus_per_run=cpus_per_run, gpus_per_run=gpus_per_run,
                          max_concurrent=max_concurrent)
    return SerialBackend()
