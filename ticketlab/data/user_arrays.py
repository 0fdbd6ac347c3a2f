"""A user's arrays made into a dataset: each checked, and the dataset's info computed.

Shared by loader datasets (`own_load.py`) and those read from a path (`npz.py`,
`folder.py`). What is checked is what would otherwise fail deep inside training, or,
worse, train on something else than meant: one label per example, labels that are class
indices, one input shape for both splits, finite values.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import DatasetError
from .info import DatasetInfo
from .input_stats import check_finite, input_stats, per_channel
from .label_checks import class_count, target_width
from .own import DataOptions

KEYS = ("x_train", "y_train", "x_test", "y_test")


def as_numpy(name: str, key: str, value: object) -> np.ndarray:
    """A NumPy array of `value` (a NumPy array or a torch tensor, read without importing torch)."""
    if isinstance(value, np.ndarray):
        return value
    if all(hasattr(value, attribute) for attribute in ("detach", "cpu", "numpy")):
        try:
            return value.detach().cpu().numpy()
        except (TypeError, RuntimeError) as error:  # e.g. bfloat16, which NumPy lacks
            raise DatasetError(f"Dataset '{name}': {key} cannot become a NumPy array ({error}); give it as "
                               "float32, an integer type or uint8 pixels.") from None
    raise DatasetError(f"Dataset '{name}': {key} is a {type(value).__name__}; give a NumPy array or a torch tensor.")


def check_inputs(name: str, x_train: np.ndarray, x_test: np.ndarray) -> tuple[int, ...]:
    """The input shape both splits share."""
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if x.ndim < 2 or x.dtype.kind not in "biuf":
            raise DatasetError(f"Dataset '{name}': {key} is a {x.dtype} array of shape {x.shape}; it needs numbers, "
                               "one row per example: (N, features) or (N, C, H, W) images.")
        check_finite(name, key, x)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"Dataset '{name}': x_train's examples have shape {x_train.shape[1:]} but x_test's "
                           f"{x_test.shape[1:]}; both splits need one input shape.")
    return tuple(int(d) for d in x_train.shape[1:])


def check_lengths(name: str, split: str, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise DatasetError(f"Dataset '{name}': x_{split} holds {len(x)} examples but y_{split} {len(y)} labels; "
                           "give one label per example.")
    if len(x) == 0:
        raise DatasetError(f"Dataset '{name}': the {split} split holds no examples; it needs at least one.")


def _frozen(array: np.ndarray) -> np.ndarray:
    # A read-only view: readers normalize writable float32 arrays in place, which must never
    # reach this process's cached copy (or the user's own array behind it).
    view = array.view()
    view.setflags(write=False)
    return view


def prepared(name: str, values: dict[str, object], num_classes: object,
             options: DataOptions) -> tuple[DatasetInfo, tuple[np.ndarray, ...]]:
    """(info, (x_train, y_train, x_test, y_test)) of checked arrays."""
    x_train, y_train, x_test, y_test = (as_numpy(name, key, values[key]) for key in KEYS)
    shape = check_inputs(name, x_train, x_test)
    check_lengths(name, "train", x_train, y_train)
    check_lengths(name, "test", x_test, y_test)
    labels = {"y_train": y_train, "y_test": y_test}
    if options.task == "regression":
        outputs = target_width(name, labels, num_classes)
    else:
        outputs = class_count(name, labels, num_classes)
    channels = shape[0] if len(shape) == 3 else 1
    if options.augment and len(shape) != 3:
        raise DatasetError(f"Dataset '{name}': augment=True crops and flips images (N, C, H, W), but its inputs "
                           f"have shape {shape}; leave augment off.")
    if not options.normalize:
        mean, std = (0.0,) * channels, (1.0,) * channels
    else:
        mean, std = options.mean, options.std
        if mean is None or std is None:
            computed = input_stats(name, x_train)
            mean, std = mean or computed[0], std or computed[1]
        mean, std = per_channel(name, "mean", mean, shape), per_channel(name, "std", std, shape)
    info = DatasetInfo(name, shape, outputs, mean, std, options.augment, options.crop_padding, options.flip,
                       train_size=len(x_train), test_size=len(x_test), task=options.task)
    return info, tuple(_frozen(a) for a in (x_train, y_train, x_test, y_test))
