"""Sweep wall time: the same 8 small runs one after another in one process (serial, all
cores to each run), on the local backend (one worker process per core, one thread each)
and on a local Ray cluster (one CPU per task), in one invocation.

Each run is LeNet-300-100 on Fashion-MNIST for `--epochs` epochs with its own seed; every
backend starts from an empty runs folder, so each trains all 8. Wall time includes
starting workers (and Ray) and loading the data in each worker: what a user waits for.

    python benchmarks/sweep_backends.py [--epochs 2] [--runs 8] [--backends serial,local,ray]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time

from report import ROOT, machine, save, table, write_section

from ticketlab.sweep.driver import run_sweep
from ticketlab.sweep.grid import sweep_from_dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--backends", default="serial,local,ray")
    args = parser.parse_args()
    sweep = sweep_from_dict({"base": {"kind": "train", "model": "lenet_300_100", "dataset": "fashion_mnist",
                                      "duration": f"{args.epochs}ep", "lr": 0.05, "momentum": 0.9},
                             "axes": {"seed": list(range(args.runs))}})
    backends = [b for b in args.backends.split(",") if b != "ray" or importlib.util.find_spec("ray")]
    seconds, accuracy = {}, {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix=f"sweep-{backend}-") as runs_dir:
            start = time.perf_counter()
            runs = run_sweep(sweep, backend, runs_dir=runs_dir, device="cpu")
            seconds[backend] = time.perf_counter() - start
            assert all(r.status == "finished" for r in runs), [r.errors for r in runs]
            accuracy[backend] = [r.metrics["test_accuracy"] for r in runs]
        print(f"{backend}: {seconds[backend]:.1f} s", flush=True)
    serial = seconds.get("serial")
    rows = [[b, f"{s:.1f}", f"{serial / s:.2f}x" if serial else "-"] for b, s in seconds.items()]
    gaps = {b: max(abs(x - y) for x, y in zip(accuracy[b], accuracy[backends[0]])) * 100 for b in backends[1:]}
    markdown = (f"## Sweep backends\n\n`python benchmarks/sweep_backends.py`: {args.runs} runs of LeNet-300-100 "
                f"on Fashion-MNIST, {args.epochs} epochs each, on {machine()} ({os.cpu_count()} cores). "
                "Wall time from submitting the sweep to its last result, workers' start-up included.\n\n"
                + table(["backend", "wall time (s)", "speed-up over serial"], rows)
                + f"\n\nLargest test-accuracy difference from {backends[0]}, per run: "
                + ", ".join(f"{b} {g:.2f} points" for b, g in gaps.items())
                + " (the serial runs use every core's thread, the workers one each: the same sums in "
                "another order, which 2 epochs of SGD amplify). Identical run for run: "
                + (", ".join(f"{a} and {b} {'yes' if accuracy[a] == accuracy[b] else 'no'}"
                             for i, a in enumerate(backends) for b in backends[i + 1:]) or "-") + ".\n")
    print(markdown)
    save("sweep_backends", {"machine": machine(), "cores": os.cpu_count(), "runs": args.runs,
                            "epochs": args.epochs, "seconds": seconds, "accuracy": accuracy}, markdown)
    # the same figure where users read about sweeps
    write_section(ROOT / "docs" / "scaling.md", "sweep-figure", markdown.split("\n", 2)[2], "")


if __name__ == "__main__":
    main()
