"""The open table of data formats: how a dataset's raw train/test arrays are read.

A format's reader takes a dataset entry (registry.py), the `data_dir` argument and the
`download` flag, and returns (x_train, y_train, x_test, y_test) as numpy arrays: uint8
pixels or floats of the entry's input shape, int labels. `load_dataset` normalizes
and moves them to the device. Readers are named as 'module:function' strings where the
module needs more than the standard library, so the table stays free of torch and numpy.
The built-in formats register at the end of this module through the same call.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import TicketlabError
from ..core.registry import check_function, check_name, function_name, resolve_function


@dataclass(frozen=True)
class DataFormat:
    name: str
    reader: str | Callable  # reader(entry, data_dir, download) -> (x_train, y_train, x_test, y_test)
    file_count: int | None = None  # how many files an entry lists, if the format fixes it
    needs_loader: bool = False  # whether an entry names a `loader` function for the reader

    def __str__(self) -> str:
        return f"format '{self.name}' read by {function_name(self.reader)}"


FORMATS: dict[str, DataFormat] = {}


def register_data_format(name: str, reader: str | Callable, *, file_count: int | None = None,
                         needs_loader: bool = False) -> DataFormat:
    """Make a data format known, so that datasets stored in it are one `register_dataset` call.

        def read_npz(entry, data_dir, download):
            path = Path(data_dir or ".") / entry.files[0].filename
            with np.load(path) as f:
                return f["x_train"], f["y_train"], f["x_test"], f["y_test"]

        register_data_format("npz", read_npz, file_count=1)

    `reader(entry, data_dir, download)` returns (x_train, y_train, x_test, y_test); the
    entry carries the dataset's `info`, `files`, `mirror` and `loader`. `ticketlab.data.locate`
    finds (and, with a mirror and checksums, downloads) an entry's files as the built-in
    formats do. `file_count` and `needs_loader` let a dataset that cannot be read be
    refused when it is registered. A taken format name is refused.
    """
    check_name(FORMATS, "data format", name)
    check_function(reader, f"The reader of data format '{name}'")
    if file_count is not None and (not isinstance(file_count, int) or file_count < 0):
        raise TicketlabError(f"file_count of data format '{name}' is a number of files (0 or more) or None; "
                             f"got {file_count!r}.")
    data_format = DataFormat(name, reader, file_count, bool(needs_loader))
    FORMATS[name] = data_format
    return data_format


def read_raw(entry, data_dir, download: bool | None) -> tuple:
    """(x_train, y_train, x_test, y_test) of `entry`, read by its format's reader."""
    data_format = FORMATS[entry.format]  # register_dataset checked that the format is known
    reader = resolve_function(data_format.reader, f"The reader of data format '{data_format.name}'")
    arrays = reader(entry, data_dir, download)
    if not isinstance(arrays, (tuple, list)) or len(arrays) != 4:
        raise TicketlabError(f"The reader of data format '{data_format.name}' returned {type(arrays).__name__} "
                             f"for dataset '{entry.name}'; it must return (x_train, y_train, x_test, y_test).")
    return tuple(arrays)


def read_generated(entry, data_dir, download: bool | None) -> tuple:
    """A dataset without files: its `loader()` makes (or reads from its own cache) the arrays."""
    return resolve_function(entry.loader, f"The loader of dataset '{entry.name}'")()


register_data_format("idx", "ticketlab.data.mnist_format:load_mnist_format", file_count=4)
register_data_format("cifar", "ticketlab.data.cifar:load_cifar", file_count=1)
register_data_format("generated", read_generated, file_count=0, needs_loader=True)
# What a loader, an npz: or a folder: name gives: the entry's loader returns the arrays this
# process read and checked when the entry was made. Not for register_dataset(format=...).
PREPARED_FORMATS = ("loader", "npz", "folder")
register_data_format("loader", read_generated, file_count=0, needs_loader=True)
register_data_format("npz", read_generated, file_count=0, needs_loader=True)
register_data_format("folder", read_generated, file_count=0, needs_loader=True)
