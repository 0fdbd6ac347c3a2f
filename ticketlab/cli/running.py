"""Running the specs a command line asks for, and what it prints after them."""
from __future__ import annotations

import json
import sys

from .. import api
from ..core.progress import make_progress
from ..data.budget import data_budget_setting


def run_specs(specs, args, settings: dict[str, str] | None = None) -> int:
    """Run each spec (validated all before the first starts); one JSON document at the end.
    `settings`: a config file's run settings (`specs.config.RUN_SETTINGS`), which flags override."""
    from .tensorboard_setting import tensorboard_setting
    data_budget = data_budget_setting(getattr(args, "device_data_budget", None))  # a bad size fails first
    tensorboard = tensorboard_setting(getattr(args, "tensorboard", None), (settings or {}).get("tensorboard"),
                                      getattr(args, "config", None))
    from ..store import RunStore
    store = RunStore(args.runs_dir)
    for spec in specs:  # finished specs need no check (and then no torch import at all)
        if not store.run_dir(spec).finished:
            spec.preflight()
    progress = make_progress(quiet=args.quiet or args.json and not sys.stderr.isatty())
    results = api.run_many(specs, runs_dir=args.runs_dir, data_dir=args.data_dir, device=args.device,
                           progress=progress, checkpoint_every=args.checkpoint_every, restart=args.restart,
                           wait=not args.no_wait, compile=args.compile, precision=args.precision,
                           batch=getattr(args, "batch", False),
                           allow_disconnected=getattr(args, "allow_disconnected", False), data_budget=data_budget,
                           tensorboard=tensorboard)
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
