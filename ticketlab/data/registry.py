"""The open table of datasets: their shapes, statistics, format, files and where to get them.

Adding a dataset is one `register_dataset` call: in a known format (the built-in ones
register in `catalog.py` through the same call), or by a loader function. A dataset may
also be named by a path, `npz:PATH` or `folder:PATH` (path_names.py), with no call, and the
generated sequence datasets by their parsed names (`modular_add_97`, `parity_20_3`,
`listops_64`: sequence_names.py), whose entries are made on first use.
Checksums: `md5` is that of the file as served by
the mirror (checked after every download); `content_sha256`, where known, is that of
the decompressed content, which survives recompression (Debian ships Fashion-MNIST
recompressed, so its .gz md5 differs). Imports no torch: specs check names here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ticketlab.core.errors import AlreadyRegisteredError, TicketlabError, UnknownNameError

from ..core.registry import check_function, check_name, check_version, note_version, resolve_function, version_of
from .formats import FORMATS, PREPARED_FORMATS
from .info import DatasetInfo
from .own import TASKS, LoaderDataset, data_options
from .path_names import PATTERNS, current, path_kind
from .sequence_names import SEQUENCE_PATTERNS, sequence_dataset


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


ENTRIES: dict[str, DatasetEntry | LoaderDataset] = {}
SEQUENCE_ENTRIES: dict[str, DatasetEntry] = {}  # the generated sequence datasets used so far, by name
# The readers of path names, named as strings: they need numpy and Pillow, the registry neither.
PATH_READERS = {"npz": "ticketlab.data.npz:npz_entry", "folder": "ticketlab.data.folder:folder_entry"}


def register_dataset(name: str, loader: str | Callable | None = None, *, version: int | str | None = None,
                     info: DatasetInfo | None = None, format: str | None = None,
                     files: Sequence[RemoteFile | str] = (), mirror: str = "", debian_dir: str | None = None,
                     debian_package: str | None = None, **options) -> DatasetEntry | LoaderDataset:
    """Make a dataset known: specs accept its name and `load_dataset` reads it.

    By its loader (no `info` or `format`): `loader()` (a callable or 'module:function'
    string) returns (x_train, y_train, x_test, y_test, num_classes) or a dict with those
    keys, as NumPy arrays or torch tensors; it runs the first time the dataset's info or
    data is needed, once per process. `version` is required: bump it when the data
    changes, and its runs get new ids. The options (keywords): `mean`, `std` (per channel;
    default computed from the training inputs, per channel for images (N, C, H, W)),
    `normalize=False` to use the inputs as given, `augment=True` with `crop_padding` and
    `flip` (off by default), `task='regression'` for float targets (`num_classes` is then
    the output width).

        register_dataset("my_points", "my_package.data:load_points", version=1)

        register_dataset("my_digits", format="idx", files=["train-images-idx3-ubyte", ...],
                         info=DatasetInfo("my_digits", (1, 8, 8), 10, (0.5,), (0.25,), augment=False,
                                          crop_padding=0, flip=False, train_size=600, test_size=100))

    Files are looked for in `data_dir`, $TICKETLAB_DATA (directly or in a `name/`
    subfolder), the Debian folder and the user cache (see `locate`); a file given by name
    alone is never downloaded, a `RemoteFile` with an md5 is fetched from `mirror` when
    missing. A 'generated' dataset names a `loader()` returning (x_train, y_train,
    x_test, y_test) instead of files. A taken dataset name is refused.
    """
    _refuse_sequence_name(name)
    if info is None and format is None:
        return _register_loader(name, loader, version, options)
    check_name(ENTRIES, "dataset", name)
    if options:
        raise TicketlabError(f"Dataset '{name}': {', '.join(sorted(options))} belong to a dataset given by its loader, "
                             "register_dataset(name, loader, version=...); with info=DatasetInfo(...) they are "
                             "fields of the info.")
    if format in PREPARED_FORMATS:
        raise TicketlabError(f"Dataset '{name}': format '{format}' is what a loader or a path name gives; register a "
                             f"loader as register_dataset('{name}', loader, version=...), or name a file as npz:PATH.")
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
    if version is not None:
        note_version("dataset", name, version, loader)
    ENTRIES[name] = entry
    return entry


def _register_loader(name: str, loader: object, version: object, options: dict) -> LoaderDataset:
    check_name(ENTRIES, "dataset", name)
    if loader is None:
        raise TicketlabError(f"Dataset '{name}' needs a loader, register_dataset('{name}', loader, version=1), or "
                             "info=DatasetInfo(...) and format=... for files in a known format.")
    check_function(loader, f"The loader of dataset '{name}'")
    if version is None:
        raise TicketlabError(f"Dataset '{name}' given by a loader needs version=... (a whole number or a label, "
                             "e.g. version=1): bump it when the data changes, so that its runs get new ids.")
    version = check_version(version, f"dataset '{name}'")
    known = ("mean", "std", "normalize", "augment", "crop_padding", "flip", "task")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TicketlabError(f"register_dataset('{name}', loader, ...) has no option {', '.join(unknown)}; its options "
                             f"are version, {', '.join(known)}.")
    record = LoaderDataset(name, loader, version, data_options(name, **options))
    note_version("dataset", name, version, loader)
    ENTRIES[name] = record
    return record


def _refuse_sequence_name(name: object) -> None:
    try:
        taken = sequence_dataset(name) is not None
    except UnknownNameError:  # a family's prefix, but no name of it: the user's to take
        taken = False
    if taken:
        raise AlreadyRegisteredError(f"The dataset '{name}' is a generated sequence dataset already (the names "
                                     f"{', '.join(SEQUENCE_PATTERNS)} are built in). Choose another name.")


def _sequence_entry(name: object) -> DatasetEntry | None:
    """The entry of a generated sequence dataset's name, made once per name; None for a name
    of no family; a clear error for a family's name that does not parse."""
    entry = SEQUENCE_ENTRIES.get(name) if isinstance(name, str) else None
    if entry is None:
        dataset = sequence_dataset(name)
        if dataset is None:
            return None
        entry = SEQUENCE_ENTRIES[name] = DatasetEntry(dataset.info, "generated", loader=dataset)
    return entry


def _check_info(info: DatasetInfo) -> None:
    shape = info.input_shape
    if not isinstance(shape, tuple) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise TicketlabError(f"Dataset '{info.name}': input_shape {shape!r} is not a tuple of positive sizes, "
                             "e.g. (1, 28, 28) or (40,).")
    channels = shape[0] if len(shape) == 3 else 1  # images: one mean and std per channel
    problem = None
    if info.task not in TASKS:
        problem = f"task is {info.task!r}; it is one of {', '.join(TASKS)}"
    elif info.num_classes < 1:
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


def valid_dataset_names() -> list[str]:
    """What an unknown dataset name's error offers: the registered names and the patterns."""
    return dataset_names() + SEQUENCE_PATTERNS + PATTERNS


def check_dataset_name(name: str) -> None:
    """Accept a registered name, a generated sequence dataset's name, or a path name whose
    file or folder exists (its content hash then recorded as its version); a clear error
    otherwise. Loads nothing."""
    if name in ENTRIES or _sequence_entry(name) is not None:
        return
    if path_kind(name) is None:
        raise UnknownNameError("dataset", str(name), valid_dataset_names())
    current(name)


def dataset_entry(name: str) -> DatasetEntry:
    """The entry of a registered or path name; a loader, file or folder is read the first time."""
    entry = ENTRIES.get(name)
    if isinstance(entry, LoaderDataset):
        return resolve_function("ticketlab.data.own_load:loaded_entry", "The loader datasets' reader")(entry)
    if entry is None:
        entry = _sequence_entry(name)
    if entry is not None:
        return entry
    kind = path_kind(name)
    if kind is None:
        raise UnknownNameError("dataset", str(name), valid_dataset_names())
    return resolve_function(PATH_READERS[kind], f"The reader of '{kind}:' datasets")(current(name))


def dataset_info(name: str) -> DatasetInfo:
    return dataset_entry(name).info


def dataset_version(name: str) -> str | None:
    """The version a spec on `name` records now: the content hash of a path name (computed
    again if its file changed), the registered version, or None for the built-ins (the
    generated sequence datasets among them: their generators are fixed)."""
    check_dataset_name(name)
    found = version_of("dataset", name)
    return None if found is None else str(found.version)


# -- corrupted test sets ("-C"), see corrupted.py --------------------------------------
SUFFIX = "_c"


def corrupted_names() -> list[str]:
    """The '-C' names of every registered image dataset (never the sequence datasets)."""
    # A loader dataset's shape is known only once it has loaded (in this process): listing
    # it would run every user's loader, so it is listed only then.
    infos = {n: entry.info if isinstance(entry, DatasetEntry) else getattr(entry.loaded.get("entry"), "info", None)
             for n, entry in ENTRIES.items()}
    return [n + SUFFIX for n, info in infos.items() if info is not None and len(info.input_shape) == 3]


def base_dataset(name: str) -> str:
    """'fashion_mnist_c' -> 'fashion_mnist'; a clear error for anything else."""
    if not name.endswith(SUFFIX) or name not in corrupted_names():
        raise UnknownNameError("corrupted dataset", name, corrupted_names())
    return name[:-len(SUFFIX)]
