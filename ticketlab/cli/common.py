"""The flags every command that runs or reads runs shares: where runs live, --json, and how
a run trains (device, checkpoints, speed). None is part of a spec."""
from __future__ import annotations

from ..train.options import PRECISIONS


def common_flags(parser, runs: bool = True) -> None:
    """`parser` may be an argument group; `runs`: the flags of commands that run specs."""
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
    speed_flags(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def speed_flags(parser) -> None:
    parser.add_argument("--compile", metavar="MODE", help="train through torch.compile: default, reduce-overhead "
                        "(CUDA graphs on a GPU) or max-autotune; same results to float tolerance")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto (default): bf16 autocast on CUDA, fp32 elsewhere; fp32: full precision on any "
                        "device, for results comparable across devices; bf16: autocast on any device")


def batch_flag(parser, what: str, *aliases: str) -> None:
    parser.add_argument("--batch", *aliases, dest="batch", action="store_true",
                        help=f"train {what} together as one stacked computation (the same results to float "
                        "tolerance, each in its own run directory; faster on a GPU)")
