"""Unpickling the official CIFAR batches without letting a pickle run code.

The CIFAR files are Python 2 pickles of dicts holding numpy arrays and lists. A normal
`pickle.load` would call any function a crafted file names; this unpickler resolves
only the few harmless globals such files need and refuses everything else.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

from ticketlab.core.errors import DatasetError

try:  # numpy >= 2 moved the array-reconstruction helpers; older pickles name the old path
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): scalar,
    ("numpy._core.multiarray", "scalar"): scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): __import__("codecs").encode,  # how Python 3 pickles bytes at protocol 2
    # Python 2 pickles (the official files) name the builtins module '__builtin__'.
    **{(module, t.__name__): t for module in ("builtins", "__builtin__")
       for t in (dict, list, tuple, bytes, bytearray, str, int, float)},
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}") from None


def load_batch(data: bytes, where: str) -> dict:
    """Unpickle one CIFAR batch (keys stay bytes, as in the official files)."""
    try:
        batch = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise DatasetError(f"{where} is not a valid CIFAR batch ({err}). Delete it and let ticketlab "
                           f"download the dataset again, or replace it with the official file.") from err
    if not isinstance(batch, dict):
        raise DatasetError(f"{where} is not a valid CIFAR batch (it holds a {type(batch).__name__}, "
                           f"not a dict). Replace it with the official file.")
    return batch
