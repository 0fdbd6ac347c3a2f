"""The open table of datasets: their shapes, statistics, format, files and where to get them.

Adding a dataset is one `register_dataset` call; the built-in ones register in
`catalog.py` through the same call. Checksums: `md5` is that of the file as served by
the mirror (checked after every download); `content_sha256`, where known, is that of
the decompressed content, which survives recompression (Debian ships Fashion-MNIST
recompressed, so its .gz md5 differs). Imports no torch: specs check names here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ticketlab.core.errors import TicketlabError, UnknownNameError

from ..core.registry import check_function, check_name
from .formats import FORMATS
from .info import DatasetInfo


@dataclass(frozen=True)
class RemoteFile:
    filename: str
    md5: str | None = None  # None: a local-only file, never downloaded (nothing to check it by)
    content_sha256: str | None = None


@dataclass(frozen=True)
class DatasetEntry:
    info: DatasetInfo
    format: str  # a registered data format (formats.py): 'idx', 'cifar', 'generated', ...
    files: tuple[RemoteFile, ...] = ()
    mirror: str = ""  # base URL; files are fetched from mirror + filename
    debian_dir: str | None = None  # folder under /usr/share/datasets
    debian_package: str | None = None
    loader: str | Callable | None = None  # for formats that need one, e.g. 'generated'

    @property
    def name(self) -> str:
        return self.info.name

    def __str__(self) -> str:
        return f"dataset '{self.name}' in format '{self.format}' with input {self.info.input_shape}"


ENTRIES: dict[str, DatasetEntry] = {}


def register_dataset(name: str, *, info: DatasetInfo, format: str, files: Sequence[RemoteFile | str] = (),
                     mirror: str = "", loader: str | Callable | None = None, debian_dir: str | None = None,
                     debian_package: str | None = None) -> DatasetEntry:
    """Make a dataset known: specs accept its name and `load_dataset` reads it by its format.

        register_dataset("my_digits", format="idx", files=["train-images-idx3-ubyte", ...],
                         info=DatasetInfo("my_digits", (1, 8, 8), 10, (0.5,), (0.25,), augment=False,
                                          crop_padding=0, flip=False, train_size=600, test_size=100))

    Files are looked for in `data_dir`, $TICKETLAB_DATA (directly or in a `name/`
    subfolder), the Debian folder and the user cache (see `locate`); a file given by name
    alone is never downloaded, a `RemoteFile` with an md5 is fetched from `mirror` when
    missing. A 'generated' dataset names a `loader()` returning (x_train, y_train,
    x_test, y_test) instead of files. A taken dataset name is refused.
    """
    check_name(ENTRIES, "dataset", name)
    if not isinstance(info, DatasetInfo) or info.name != name:
        raise TicketlabError(f"Dataset '{name}' needs info=DatasetInfo('{name}', ...) (the same name); "
                             f"got {info!r}.")
    _check_info(info)
    if format not in FORMATS:
        raise UnknownNameError("data format", str(format), list(FORMATS))
    files = tuple(f if isinstance(f, RemoteFile) else RemoteFile(str(f)) for f in files)
    data_format = FORMATS[format]
    if data_format.file_count is not None and len(files) != data_format.file_count:
        raise TicketlabError(f"Dataset '{name}' lists {len(files)} files, but format '{format}' reads "
                             f"{data_format.file_count}.")
    if data_format.needs_loader:
        check_function(loader, f"The loader of dataset '{name}' (format '{format}')")
    entry = DatasetEntry(info, format, files, mirror, debian_dir, debian_package, loader)
    ENTRIES[name] = entry
    return entry


def _check_info(info: DatasetInfo) -> None:
    shape = info.input_shape
    if not isinstance(shape, tuple) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise TicketlabError(f"Dataset '{info.name}': input_shape {shape!r} is not a tuple of positive sizes, "
                             "e.g. (1, 28, 28) or (40,).")
    channels = shape[0] if len(shape) == 3 else 1  # images: one mean and std per channel
    problem = None
    if info.num_classes < 1:
        problem = f"num_classes is {info.num_classes}; it needs at least one class"
    elif len(info.mean) != channels or len(info.std) != channels or min(info.std) <= 0:
        problem = f"mean {info.mean} and std {info.std} need one value per channel ({channels}), std > 0"
    elif info.train_size < 1 or info.test_size < 1:
        problem = (f"train_size {info.train_size} and test_size {info.test_size} must be the split sizes "
                   "(epochs are counted from train_size before any data is loaded)")
    if problem:
        raise TicketlabError(f"Dataset '{info.name}': {problem}.")


def dataset_names() -> list[str]:
    """Every registered dataset, in registration order (the built-ins first)."""
    return list(ENTRIES)


def dataset_entry(name: str) -> DatasetEntry:
    try:
        return ENTRIES[name]
    except KeyError:
        raise UnknownNameError("dataset", name, dataset_names()) from None


def dataset_info(name: str) -> DatasetInfo:
    return dataset_entry(name).info


# -- corrupted test sets ("-C"), see corrupted.py --------------------------------------
SUFFIX = "_c"


def corrupted_names() -> list[str]:
    """The '-C' names of every image dataset."""
    return [n + SUFFIX for n, entry in ENTRIES.items() if len(entry.info.input_shape) == 3]


def base_dataset(name: str) -> str:
    """'fashion_mnist_c' -> 'fashion_mnist'; a clear error for anything else."""
    if not name.endswith(SUFFIX) or name not in corrupted_names():
        raise UnknownNameError("corrupted dataset", name, corrupted_names())
    return name[:-len(SUFFIX)]
