"""The command line: one subcommand per experiment kind or analysis.

Every command that runs or shows an experiment accepts --json and then prints one JSON
document as its last output on stdout; progress and notes go to stderr. A user mistake
prints one paragraph and exits with status 2, never a traceback.
"""
from __future__ import annotations

import json
import sys

from .. import api
from ..core.errors import TicketlabError
from .parser import build_parser
from .args import (baseline_specs, imp_specs, number_list, rst_specs, rtl_specs,
                        spec_from_train_args)
from ..core.progress import make_progress


def _run_specs(specs, args) -> int:
    """Run each spec (validated all before the first starts); one JSON document at the end."""
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    for spec in specs:  # finished specs need no check (and then no torch import at all)
        if not store.run_dir(spec).finished:
            spec.preflight()
    progress = make_progress(quiet=args.quiet or args.json and not sys.stderr.isatty())
    results = api.run_many(specs, runs_dir=args.runs_dir, data_dir=args.data_dir, device=args.device,
                           progress=progress, checkpoint_every=args.checkpoint_every, restart=args.restart,
                           wait=not args.no_wait, compile=args.compile, precision=args.precision,
                           batch=getattr(args, "batch", False))
    if args.json:
        docs = [r.as_json() for r in results]
        print(json.dumps(docs[0] if len(docs) == 1 else {"runs": docs}, sort_keys=True))
        return 0
    from ..methods import method_of
    from .listing import print_result
    for result in results:
        print_result(result)
    method = method_of(specs[0].kind)
    if method.has("after_run"):
        print("\n" + method.call("after_run", store, results))
    if method.report:
        from ..analysis.report import write_report
        name = results[0].run_id + (f"+{len(results) - 1}" if len(results) > 1 else "")
        out = store.root / "reports" / name
        write_report([store.open(r.run_id) for r in results], out)
        print(f"report: {out}")
    return 0


def _source_imp(args):
    from ..store import RunStore
    source = RunStore(args.runs_dir).open(args.run).spec
    if source.kind != "imp":
        raise TicketlabError(f"ticketlab {args.command} takes an IMP run; {args.run} is a {source.kind} run.")
    return source


def _pools(args) -> int:
    from ..specs import PoolSpec
    spec = PoolSpec(source=_source_imp(args), targets=tuple(number_list(args.target, "--target", int)),
                    variants=tuple(v.strip() for v in args.variant.split(",") if v.strip()),
                    alphas=tuple(number_list(args.alphas, "--alphas")), candidates=args.candidates,
                    weights=args.weights, bn_samples=args.bn_samples, ood=not args.no_ood, ood_size=args.ood_size)
    return _run_specs([_derived(spec, args)], args)


def _derived(spec, args):
    """`spec` with the --set overrides, which may not change the IMP run it reads: that would
    silently train another IMP run."""
    out = spec.with_overrides(args.overrides)
    if out.source != spec.source:
        raise TicketlabError(f"--set cannot change the IMP run that ticketlab {args.command} reads ({args.run}). "
                             "Run the IMP setting you want with ticketlab imp, then name that run here.")
    return out


def _evaluate(args) -> int:
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


def _report(args) -> int:
    from ..analysis.report import write_report
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    written = write_report([store.open(r) for r in args.runs], args.out, metric=args.metric, show=not args.json)
    if args.json:
        print(json.dumps(written, sort_keys=True))
    else:
        print("wrote " + ", ".join(written["files"]))
    return 0


def _sweep(args) -> int:
    from ..sweep.driver import run_sweep, sweep_markdown
    from ..sweep.grid import load_sweep
    from ..store import RunStore
    for flag, least in (("cpus_per_run", 1), ("gpus_per_run", 0), ("max_concurrent", 1), ("retries", 0)):
        value = getattr(args, flag)
        if value is not None and value < least:
            raise TicketlabError(f"--{flag.replace('_', '-')} must be at least {least}, got {value}.")
    sweep = load_sweep(args.sweep_file)
    if args.dry_run:
        store = RunStore(args.runs_dir)
        rows = [{"run_id": s.run_id, "point": p, "finished": store.run_dir(s).finished} for p, s in sweep.points()]
        print(json.dumps(rows, sort_keys=True) if args.json else "\n".join(
            f"{r['run_id']}  {'finished' if r['finished'] else 'to run  '}  "
            + " ".join(f"{k}={v}" for k, v in r["point"].items()) for r in rows))
        return 0
    runs = run_sweep(sweep, args.backend, runs_dir=args.runs_dir, data_dir=args.data_dir, device=args.device,
                     address=args.address, cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                     max_concurrent=args.max_concurrent, retries=args.retries,
                     checkpoint_every=args.checkpoint_every, compile=args.compile, precision=args.precision,
                     progress=make_progress(quiet=args.quiet or args.json and not sys.stderr.isatty()))
    print(json.dumps({"runs": [r.as_json() for r in runs]}, sort_keys=True) if args.json else sweep_markdown(runs))
    return 1 if any(r.status == "failed" for r in runs) else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _run_specs([spec_from_train_args(args, seed=s) for s in number_list(args.seeds, "--seeds", int)],
                              args)
        if args.command == "imp":
            return _run_specs(imp_specs(args), args)
        if args.command == "rst":
            return _run_specs(rst_specs(args), args)
        if args.command == "rtl":
            return _run_specs(rtl_specs(args), args)
        if args.command == "rtl-inr":
            from ..specs import InrSpec
            spec = InrSpec(image=args.image, side=args.side, regions=args.regions,
                           sparsities=tuple(number_list(args.sparsity, "--sparsity")), steps=args.steps,
                           extract_steps=args.extract_steps).with_overrides(args.overrides)
            return _run_specs([spec.replace(seed=s) for s in number_list(args.seeds, "--seeds", int)], args)
        if args.command in ("pai", "dst"):
            return _run_specs(baseline_specs(args), args)
        if args.command == "lmc":
            from ..specs import LmcSpec
            spec = LmcSpec(source=_source_imp(args), level=args.level, points=args.points,
                           data_seeds=tuple(number_list(args.data_seeds, "--data-seeds", int)))
            return _run_specs([_derived(spec, args)], args)
        if args.command == "pools":
            return _pools(args)
        if args.command == "elastic":
            from ..specs import ElasticSpec
            spec = ElasticSpec(source=_source_imp(args), level=args.level, target=args.target,
                               strategy=args.strategy, mapping=args.mapping, shuffle_replicas=args.shuffle_replicas,
                               target_dataset=args.target_dataset,
                               controls=tuple(c.strip() for c in args.controls.split(",") if c.strip()))
            return _run_specs([_derived(spec, args)], args)
        if args.command == "report":
            return _report(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "export":
            from ..export.inference import export_inference
            from ..store import RunStore, Unit
            from ..store.unit import level_name
            run = RunStore(args.runs_dir).open(args.run)
            name = level_name(args.level) if args.level is not None else (args.unit or ".")
            unit = Unit(run.path / name)  # not run.child: a wrong name must not make a folder
            if not unit.path.is_dir():
                raise TicketlabError(f"{run.run_id} has no unit {name}.")
            written = export_inference(run, unit, args.out, args.format)
            print(json.dumps(written, sort_keys=True) if args.json else f"wrote {args.out} ({args.format}, "
                  f"{written['model']} from {written['unit']})")
            return 0
        if args.command == "similarity":
            from ..analysis.similarity import similarity_markdown, write_similarity
            from ..store import RunStore
            store = RunStore(args.runs_dir)
            report = write_similarity([store.open(r) for r in args.runs], args.out, args.factor, args.min_jump)
            print(json.dumps(report, sort_keys=True) if args.json else
                  similarity_markdown(report) + "\nwrote " + ", ".join(report["files"]))
            return 0
        if args.command == "run":
            from ..specs import load_spec_file
            return _run_specs([load_spec_file(args.config).with_overrides(args.overrides)], args)
        from . import listing
        return getattr(listing, f"command_{args.command}")(args)
    except TicketlabError as err:
        print(f"ticketlab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ticketlab: interrupted; run the same command again to resume from the last checkpoint.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
