"""Running a loader dataset's loader, once per process, and checking what it returned."""
from __future__ import annotations

from ..core.errors import DatasetError, TicketlabError
from ..core.registry import function_name, resolve_function
from .own import LoaderDataset
from .registry import DatasetEntry
from .user_arrays import KEYS, prepared

SHAPE = "(x_train, y_train, x_test, y_test, num_classes) or a dict with those keys"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def unpack(name: str, result: object) -> tuple[dict, object]:
    """({key: array}, num_classes) of what a loader returned, or a clear error."""
    if isinstance(result, dict):
        missing = [k for k in (*KEYS, "num_classes") if k not in result]
        extra = sorted(str(k) for k in result if k not in (*KEYS, "num_classes"))
        if missing or extra:
            raise DatasetError(f"The loader of dataset '{name}' returned a dict with keys {sorted(map(str, result))}; "
                               f"it needs exactly {', '.join((*KEYS, 'num_classes'))} (missing: {missing or 'none'}; "
                               f"unexpected: {extra or 'none'}).")
        return {k: result[k] for k in KEYS}, result["num_classes"]
    if isinstance(result, (tuple, list)) and len(result) == 5:
        return dict(zip(KEYS, result[:4])), result[4]
    got = f"a {type(result).__name__} of {len(result)} items" if isinstance(result, (tuple, list)) \
        else f"a {type(result).__name__}"
    raise DatasetError(f"The loader of dataset '{name}' returned {got}; it must return {SHAPE}.")


def loaded_entry(record: LoaderDataset) -> DatasetEntry:
    """The dataset's entry, its info from the arrays; the loader runs the first time only."""
    if "entry" in record.loaded:
        return record.loaded["entry"]
    function = resolve_function(record.loader, f"The loader of dataset '{record.name}'")
    try:
        result = function()
    except TicketlabError:
        raise
    except Exception as error:  # the user's code: said in one line, naming whose it is
        raise DatasetError(f"The loader of dataset '{record.name}' ({function_name(record.loader)}) raised "
                           f"{type(error).__name__}: {_one_line(error)}; fix the loader and run again.") from error
    values, num_classes = unpack(record.name, result)
    info, arrays = prepared(record.name, values, num_classes, record.options)
    entry = DatasetEntry(info, "loader", loader=lambda: arrays)
    record.loaded["entry"] = entry
    return entry
