"""The commands that are not methods: run a config file, sweep, report, evaluate, export,
similarity. Each takes the parsed arguments and returns the exit status."""
from __future__ import annotations

import json
import sys

from ..core.errors import PathError, TicketlabError
from ..core.progress import make_progress
from .running import run_specs


def run_config(args) -> int:
    from ..specs.config import load_config
    spec, settings = load_config(args.config)  # settings: the config's keys outside the spec (tensorboard)
    return run_specs([spec.with_overrides(args.overrides)], args, settings)


def evaluate(args) -> int:
    from ..analysis.robustness import evaluate_run, robustness_markdown
    from ..store import RunStore
    from ..train.device import precision_policy, resolve_device
    if args.ood_size < 0:
        raise TicketlabError(f"--ood-size must be >= 0 (0: the whole test set), got {args.ood_size}.")
    with precision_policy(args.precision):
        rows = evaluate_run(RunStore(args.runs_dir).open(args.run), data_dir=args.data_dir,
                            device=resolve_device(args.device), size=args.ood_size, only=args.unit)
    print(json.dumps(rows, sort_keys=True) if args.json else robustness_markdown(rows))
    return 0


def report(args) -> int:
    from ..analysis.report import write_report
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    written = write_report([store.open(r) for r in args.runs], args.out, metric=args.metric, show=not args.json)
    if args.json:
        print(json.dumps(written, sort_keys=True))
    else:
        print("wrote " + ", ".join(written["files"]))
    return 0


def sweep(args) -> int:
    from ..sweep.driver import run_sweep, sweep_markdown
    from ..sweep.grid import load_sweep
    from ..store import RunStore
    from .tensorboard_setting import tensorboard_setting
    from .args import check_at_least
    check_at_least(args, (("cpus_per_run", 1), ("gpus_per_run", 0), ("max_concurrent", 1), ("retries", 0)))
    grid = load_sweep(args.sweep_file)
    if args.dry_run:
        store = RunStore(args.runs_dir)
        rows = [{"run_id": s.run_id, "point": p, "finished": store.run_dir(s).finished} for p, s in grid.points()]
        print(json.dumps(rows, sort_keys=True) if args.json else "\n".join(
            f"{r['run_id']}  {'finished' if r['finished'] else 'to run  '}  "
            + " ".join(f"{k}={v}" for k, v in r["point"].items()) for r in rows))
        return 0
    runs = run_sweep(grid, args.backend, runs_dir=args.runs_dir, data_dir=args.data_dir, device=args.device,
                     address=args.address, cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                     max_concurrent=args.max_concurrent, retries=args.retries,
                     checkpoint_every=args.checkpoint_every, compile=args.compile, precision=args.precision,
                     tensorboard=tensorboard_setting(getattr(args, "tensorboard", None)),
                     progress=make_progress(quiet=args.quiet or args.json and not sys.stderr.isatty()))
    print(json.dumps({"runs": [r.as_json() for r in runs]}, sort_keys=True) if args.json else sweep_markdown(runs))
    return 1 if any(r.status == "failed" for r in runs) else 0


def export(args) -> int:
    from ..export.inference import export_inference
    from ..store import RunStore, Unit
    from ..store.unit import level_name
    run = RunStore(args.runs_dir).open(args.run)
    name = level_name(args.level) if args.level is not None else (args.unit or ".")
    unit = Unit(run.path / name)  # not run.child: a wrong name must not make a folder
    if not unit.path.resolve().is_relative_to(run.path.resolve()):  # '--unit ../..' reads no other folder
        raise PathError(f"--unit {name} lies outside the run {run.run_id}: give a unit inside it, e.g. level_03 "
                        "or level_03/oneshot.")
    if not unit.path.is_dir():
        raise TicketlabError(f"{run.run_id} has no unit {name}.")
    written = export_inference(run, unit, args.out, args.format)
    print(json.dumps(written, sort_keys=True) if args.json else f"wrote {args.out} ({args.format}, "
          f"{written['model']} from {written['unit']})")
    return 0


def similarity(args) -> int:
    from ..analysis.similarity import similarity_markdown, write_similarity
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    written = write_similarity([store.open(r) for r in args.runs], args.out, args.factor, args.min_jump)
    print(json.dumps(written, sort_keys=True) if args.json else
          similarity_markdown(written) + "\nwrote " + ", ".join(written["files"]))
    return 0
