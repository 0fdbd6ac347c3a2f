"""The command line: one subcommand per experiment kind or analysis.

Every command that runs or shows an experiment accepts --json and then prints one JSON
document as its last output on stdout; progress and notes go to stderr. A user mistake
prints one paragraph and exits with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import api
from .errors import TicketlabError
from .progress import make_progress


def _common(parser: argparse.ArgumentParser, runs: bool = True) -> None:
    parser.add_argument("--runs-dir", help="root of run directories (default: $TICKETLAB_RUNS or ./runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON document as the last output")
    if not runs:
        return
    parser.add_argument("--data-dir", help="folder holding dataset files (also $TICKETLAB_DATA)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any spec setting, e.g. --set lr=0.05 (repeatable)")
    parser.add_argument("--checkpoint-every", default="1ep", help="save training state this often (default 1ep)")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint of this run")
    parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting when another process runs it")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ticketlab", description="A laboratory for lottery-ticket research.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train one dense network")
    train.add_argument("--model", required=True, help="e.g. lenet_300_100, conv4, cifar_resnet_20")
    train.add_argument("--dataset", required=True, help="e.g. fashion_mnist, cifar10, mnist1d")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="training length in epochs")
    length.add_argument("--steps", type=int, help="training length in iterations")
    train.add_argument("--seed", type=int, default=0)
    _common(train)

    run = sub.add_parser("run", help="run any experiment from a YAML config file")
    run.add_argument("config")
    _common(run)

    runs = sub.add_parser("runs", help="table of runs from the index")
    runs.add_argument("--kind", help="only runs of this experiment kind")
    runs.add_argument("--status", help="only runs with this status (finished, running, failed, ...)")
    _common(runs, runs=False)

    show = sub.add_parser("show", help="one run's spec, status and metrics")
    show.add_argument("run", help="run id, unique prefix of its hash, or directory")
    _common(show, runs=False)

    for name, what in (("models", "model names"), ("datasets", "dataset names and shapes")):
        sub.add_parser(name, help=f"list {what}")
    return parser


def _spec_from_train_args(args):
    from .spec import TrainSpec
    fields = {"model": args.model, "dataset": args.dataset, "seed": args.seed}
    if args.epochs is not None:
        fields["duration"] = f"{args.epochs}ep"
    if args.steps is not None:
        fields["duration"] = f"{args.steps}it"
    if args.epochs is not None and args.epochs <= 0 or args.steps is not None and args.steps <= 0:
        raise TicketlabError("--epochs and --steps must be positive whole numbers.")
    return TrainSpec(**fields).with_overrides(args.overrides)


def _run_spec(spec, args) -> int:
    progress = make_progress(quiet=args.quiet or args.json and not sys.stderr.isatty())
    result = api.run(spec, runs_dir=args.runs_dir, data_dir=args.data_dir, device=args.device,
                     progress=progress, checkpoint_every=args.checkpoint_every, restart=args.restart,
                     wait=not args.no_wait)
    if args.json:
        print(json.dumps(result.as_json(), sort_keys=True))
    else:
        from .listing import print_result
        print_result(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _run_spec(_spec_from_train_args(args), args)
        if args.command == "run":
            from .spec import load_spec_file
            return _run_spec(load_spec_file(args.config).with_overrides(args.overrides), args)
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
