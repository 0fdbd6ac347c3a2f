"""Terminal views of runs: the runs table, one run's details, the model and dataset lists."""
from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from ..core.errors import TicketlabError
from ..specs import spec_from_dict
from ..specs.base import version_note
from ..store import RunStore


def _console() -> Console:
    # A wide virtual terminal when piped, so tables are not squeezed into 80 columns.
    return Console(width=None if sys.stdout.isatty() else 160)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def training_fields(spec: dict) -> dict:
    """The fields of the training a run's spec describes (`Spec.training()`: for an elastic
    ticket, the target's model and dataset); none for a spec this version cannot read."""
    try:
        return spec_from_dict(spec).training().to_dict()
    except TicketlabError:
        return {}


def print_result(result) -> None:
    verb = "reused (already finished)" if result.reused else "finished"
    print(f"{result.run_id} {verb}: {result.run_dir}")
    for key, value in result.metrics.items():
        print(f"  {key}: {_fmt(value)}")


def command_runs(args) -> int:
    store = RunStore(args.runs_dir)
    store.sync()
    rows = store.index.rows(kind=args.kind, status=args.status)
    for row in rows:  # a run written under an older version of its kind says so
        note = version_note(row["spec"])
        if note:
            row["note"] = note
    if args.json:
        print(json.dumps(rows, sort_keys=True))
        return 0
    table = Table(title=f"runs in {store.root}")
    for column in ("run", "status", "model", "dataset", "seed", "duration", "test acc", "steps"):
        table.add_column(column)
    for row in rows:
        spec, metrics = row["spec"], row["metrics"] or {}
        # An older version's run shows its fields as stored, not as read with today's defaults;
        # so does one whose spec no longer reads at all.
        inner = (training_fields(spec) if "note" not in row else {}) or spec.get("train", spec)
        inner = inner if isinstance(inner, dict) else {}
        table.add_row(row["run_id"] + ("*" if "note" in row else ""), row["status"], inner.get("model", ""),
                      inner.get("dataset", ""), _fmt(inner.get("seed")), _fmt(inner.get("duration")),
                      _fmt(metrics.get("test_accuracy")), _fmt(metrics.get("step")))
    _console().print(table)
    for row in rows:
        if "note" in row:
            print(f"* {row['run_id']}: {row['note']}; `ticketlab show {row['run_id']}` displays it.")
    return 0


def command_show(args) -> int:
    store = RunStore(args.runs_dir)
    run = store.open(args.run)
    info = {"run_id": run.run_id, "run_dir": str(run.path), "status": run.status(), "spec": run.spec_dict(),
            "metrics": run.result().get("metrics", {}) if run.finished else {}}
    if run.note:  # no live spec (an older version of its kind): the stored spec, and why
        info["note"] = run.note
    if args.json:
        print(json.dumps(info, sort_keys=True))
        return 0
    print(f"{info['run_id']} ({info['status']}) in {info['run_dir']}")
    if run.note:
        print(f"note: {run.note}; the spec below is the one it stored.")
    print("spec:")
    for key, value in info["spec"].items():
        print(f"  {key}: {value}")
    if info["metrics"]:
        print("metrics:")
        for key, value in info["metrics"].items():
            print(f"  {key}: {_fmt(value)}")
    return 0


def command_models(args) -> int:
    from ..models import model_patterns
    print("\n".join(model_patterns()))
    return 0


def command_datasets(args) -> int:
    from ..data import dataset_info, dataset_names
    for name in dataset_names():
        info = dataset_info(name)
        print(f"{name}: input {tuple(info.input_shape)}, {info.num_classes} classes")
    from ..data.sequence_names import FAMILIES
    for pattern, _, what in FAMILIES.values():
        print(f"{pattern}: generated, {what}")
    from ..data.registry import corrupted_names
    print(f"corrupted test sets: {', '.join(corrupted_names())} (7 corruptions x 5 severities, generated on "
          "the device; the official CIFAR-10-C/100-C files are read when present)")
    return 0
