"""The flags every command that runs or reads runs shares: where runs live, --json, and how
a run trains (device, checkpoints, speed). None is part of a spec."""
from __future__ import annotations

from ..train.options import PRECISIONS
from .files import IN_FOLDER, OUT_FOLDER, RUNS, RUNS_READ, path_argument

_CREATED = "(an existing one, or a new one ticketlab creates)"


def common_flags(parser, runs: bool = True, writes: bool | None = None) -> None:
    """`parser` may be an argument group; `runs`: the flags of commands that run specs;
    `writes` (default: `runs`): whether the command writes in the runs folder."""
    writes = runs if writes is None else writes
    path_argument(parser, "--runs-dir", help="root of run directories (default: $TICKETLAB_RUNS or ./runs)",
                  kind=RUNS if writes else RUNS_READ, noun="runs folder",
                  valid=f"a folder of run directories{' that you can write to' if writes else ''} {_CREATED}")
    parser.add_argument("--json", action="store_true", help="print one JSON document as the last output")
    if not runs:
        return
    data_dir_flag(parser)
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override any spec setting, e.g. --set lr=0.05 (repeatable)")
    parser.add_argument("--checkpoint-every", default="1ep", help="save training state this often (default 1ep)")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint of this run")
    parser.add_argument("--no-wait", action="store_true", help="fail instead of waiting when another process runs it")
    parser.add_argument("--allow-disconnected", action="store_true",
                        help="train a mask that leaves no path of kept weights from the input to the output "
                             "(refused otherwise)")
    parser.add_argument("--device-data-budget", metavar="SIZE",
                        help="device memory the data may take, e.g. 500MB, 2GiB or bytes (also "
                             "$TICKETLAB_DEVICE_DATA_BUDGET); a dataset over it streams from host memory, "
                             "with the same results (default: no limit)")
    speed_flags(parser)
    tensorboard_flag(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def data_dir_flag(parser) -> None:
    """--data-dir: a folder the user names must exist (and, when read, hold the dataset:
    `data.locate`); without it the default search order applies."""
    path_argument(parser, "--data-dir", help="folder holding dataset files (also $TICKETLAB_DATA)",
                  kind=IN_FOLDER, noun="data folder",
                  valid="an existing folder holding the dataset files (directly or in a subfolder named after the "
                        "dataset); leave it out to search $TICKETLAB_DATA, the system's and the user's dataset "
                        "folders")


# What --tensorboard, the config key and $TICKETLAB_TENSORBOARD must name (`cli/tensorboard_setting.py`).
TENSORBOARD_FOLDER = "a folder to write TensorBoard event files into (created with the folders above it if missing)"


def tensorboard_flag(parser) -> None:
    path_argument(parser, "--tensorboard", metavar="DIR", kind=OUT_FOLDER, noun="TensorBoard folder",
                  valid=TENSORBOARD_FOLDER,
                  help="write each unit's live training curves for TensorBoard under DIR/<run id>/<unit> "
                       "(also the config key 'tensorboard' and $TICKETLAB_TENSORBOARD; needs the tensorboard "
                       "package; default: off)")


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
