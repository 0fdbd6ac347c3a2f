"""The labels of a user's dataset: class indices for a classification, numbers of one
width for a regression."""
from __future__ import annotations

import numpy as np

from ..core.errors import DatasetError
from .input_stats import check_finite


def check_count(name: str, num_classes: object, what: str = "num_classes") -> int:
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise DatasetError(f"Dataset '{name}': {what} is a whole number >= 1; got {num_classes!r}.")
    return int(num_classes)


def class_count(name: str, labels: dict[str, np.ndarray], num_classes: object) -> int:
    """The number of classes (given, or the largest label + 1), every label checked against it."""
    for key, y in labels.items():
        if y.ndim != 1 or y.dtype.kind not in "iu":
            example = y.flat[0] if y.size else "none"
            raise DatasetError(f"Dataset '{name}': {key} holds {y.dtype} labels of shape {y.shape} (e.g. {example}); "
                               "classification needs one integer class index 0..num_classes-1 per example "
                               "(y.astype(np.int64)), or task='regression' for real-valued targets.")
    if num_classes is None:
        num_classes = max(int(y.max()) for y in labels.values()) + 1
    count = check_count(name, num_classes)
    for key, y in labels.items():
        outside = y[(y < 0) | (y >= count)]
        if outside.size:
            raise DatasetError(f"Dataset '{name}': {key} holds the label {outside[0]}, outside the valid range "
                               f"0..{count - 1} (num_classes={count}); labels are class indices.")
    return count


def target_width(name: str, targets: dict[str, np.ndarray], num_classes: object) -> int:
    """A regression's output width: 1 for targets (N,), K for (N, K); `num_classes` must agree."""
    widths = set()
    for key, y in targets.items():
        if y.ndim not in (1, 2) or y.dtype.kind not in "biuf":
            raise DatasetError(f"Dataset '{name}': {key} is a {y.dtype} array of shape {y.shape}; regression targets "
                               "are numbers, (N,) or (N, outputs).")
        check_finite(name, key, y)
        widths.add(1 if y.ndim == 1 else y.shape[1])
    if len(widths) > 1:
        raise DatasetError(f"Dataset '{name}': y_train and y_test have different target widths {sorted(widths)}.")
    width = widths.pop()
    if num_classes is not None and check_count(name, num_classes) != width:
        raise DatasetError(f"Dataset '{name}': num_classes={num_classes} is the output width of a regression, but the "
                           f"targets have width {width}; give num_classes={width}.")
    return width
