"""`ticketlab bench`: run a suite and build its leaderboard; `bench merge` joins results
files; `bench --list` names the suites."""
from __future__ import annotations

import json
import sys

from ..core.errors import TicketlabError
from .args import check_at_least, number_list
from .common import data_dir_flag, speed_flags, tensorboard_flag
from .files import OUT_FILE, path_argument

MERGE = "merge"


def add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="run a benchmark suite and build its leaderboard page "
                                         "(`bench merge A.json B.json` joins results files)")
    bench.set_defaults(handler="ticketlab.cli.bench:command")
    bench.add_argument("suite", nargs="?", help="a built-in suite (--list names them), a suite file (.yaml), or "
                                                "`merge` followed by results files")
    bench.add_argument("files", nargs="*", help="with merge: the bench.json files to join")
    bench.add_argument("--list", action="store_true", help="list the built-in suites")
    bench.add_argument("--backend", default="serial", help="serial (this process, runs batched where the method "
                                                           "allows; default), local (a process per run) or ray")
    bench.add_argument("--seeds", help="comma list of seeds instead of the suite's, e.g. 0,1")
    path_argument(bench, "--out", help="the page to write (default: leaderboard/SUITE/index.html; bench.json "
                                       "beside it)", kind=OUT_FILE, noun="page",
                  valid="an .html file to write (missing folders above it are created)")
    bench.add_argument("--dry-run", action="store_true", help="list the runs and which have finished; run nothing")
    bench.add_argument("--no-batch", action="store_true", help="train every run on its own")
    bench.add_argument("--address", help="ray backend: a running cluster (HOST:PORT or auto)")
    bench.add_argument("--cpus-per-run", type=int, default=1, help="local and ray backends: cores per run")
    bench.add_argument("--gpus-per-run", type=int, default=0, help="local and ray backends: GPUs per run")
    data_dir_flag(bench)
    bench.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    bench.add_argument("--checkpoint-every", default="1ep", help="save each run's training state this often")
    speed_flags(bench)
    tensorboard_flag(bench)
    bench.add_argument("--quiet", action="store_true", help="no progress output")
    from .common import common_flags
    common_flags(bench, runs=False, writes=True)


def command(args) -> int:
    from ..bench.suite import builtin_suites, load_suite
    if args.list:
        return _list(builtin_suites(), load_suite, args.json)
    if not args.suite:
        raise TicketlabError("ticketlab bench needs a suite: a built-in one (ticketlab bench --list), a suite file, "
                             "or `merge A.json B.json`.")
    if args.suite == MERGE:
        return _merge(args)
    if args.files:
        raise TicketlabError(f"ticketlab bench {args.suite} takes one suite; {' '.join(args.files)} is more "
                             f"(results files go after `merge`: ticketlab bench merge A.json B.json).")
    suite = load_suite(args.suite)
    if args.seeds:
        seeds = number_list(args.seeds, "--seeds", int)
        if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise TicketlabError(f"--seeds takes distinct whole numbers >= 0, e.g. 0,1,2; got {args.seeds!r}.")
        suite = suite.with_seeds(tuple(seeds))
    return _dry_run(suite, args) if args.dry_run else _run(suite, args)


def _list(suites, load, as_json: bool) -> int:
    rows = []
    for name in suites:
        suite = load(name)
        rows.append({"name": name, "description": suite.description, "settings": [s.name for s in suite.settings],
                     "methods": [m.name for m in suite.methods], "densities": list(suite.densities),
                     "seeds": list(suite.seeds)})
    if as_json:
        print(json.dumps({"suites": rows}, sort_keys=True))
    else:
        for row in rows:
            print(f"{row['name']}: {row['description']}\n  settings: {', '.join(row['settings'])}\n"
                  f"  methods: {', '.join(row['methods'])}\n  densities: "
                  f"{', '.join(f'{d:g}' for d in row['densities'])}; seeds: {', '.join(map(str, row['seeds']))}")
    return 0


def _dry_run(suite, args) -> int:
    from ..bench.expand import expand
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    rows = [{"run_id": j.spec.run_id, "setting": j.setting.name, "method": j.method.name, "seed": j.seed,
             "density": j.density, "finished": store.run_dir(j.spec).finished} for j in expand(suite)]
    if args.json:
        print(json.dumps({"runs": rows}, sort_keys=True))
    else:
        for r in rows:
            density = "" if r["density"] is None else f" density={r['density']:g}"
            print(f"{r['run_id']}  {'finished' if r['finished'] else 'to run  '}  {r['setting']} {r['method']} "
                  f"seed={r['seed']}{density}")
    return 0


def _run(suite, args) -> int:
    from ..bench.results import bench_document, describe_device
    from ..bench.runner import outputs, run_suite
    from ..store import RunStore
    from ..train.device import resolve_device
    from .tensorboard_setting import tensorboard_setting
    check_at_least(args, (("cpus_per_run", 1), ("gpus_per_run", 0)))
    page, results = outputs(args.out or f"leaderboard/{suite.name}/index.html")
    quiet = args.quiet or (args.json and not sys.stderr.isatty())
    note = (lambda message: None) if quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    # A mask with no path from input to output trains anyway and is ranked as what it is
    # (a network that did not learn): a benchmark reports a method's collapse, it does not stop.
    options = dict(data_dir=args.data_dir, device=args.device, checkpoint_every=args.checkpoint_every,
                   compile=args.compile, precision=args.precision, allow_disconnected=True,
                   tensorboard=tensorboard_setting(args.tensorboard))
    if args.backend != "serial":
        options.update(address=args.address, cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run)
    jobs = run_suite(suite, backend=args.backend, runs_dir=args.runs_dir, note=note, batch=not args.no_batch,
                     **options)
    doc = bench_document(suite, jobs, RunStore(args.runs_dir), describe_device(resolve_device(args.device)))
    _write(doc, page, results)
    summary = {"suite": suite.name, "runs": len(jobs), "records": len(doc["records"]), "page": str(page),
               "results": str(results)}
    print(json.dumps(summary, sort_keys=True) if args.json else f"wrote {page} and {results}")
    return 0


def _merge(args) -> int:
    from ..bench.merge import merge_files
    from ..bench.runner import outputs
    page, results = outputs(args.out or "leaderboard/merged/index.html")
    doc = merge_files(args.files)
    _write(doc, page, results)
    summary = {"records": len(doc["records"]), "page": str(page), "results": str(results)}
    print(json.dumps(summary, sort_keys=True) if args.json else f"wrote {page} and {results}")
    return 0


def _write(doc: dict, page, results) -> None:
    """The results file, the rankings in Markdown and the page, each written whole."""
    from ..bench.markdown import rankings_markdown
    from ..bench.page import write_page
    from ..core.atomic import make_dir, write_text
    make_dir(page.parent)
    write_text(results, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    write_text(page.with_name("rankings.md"), rankings_markdown(doc))
    write_page(doc, page)
