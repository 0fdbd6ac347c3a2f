"""The statistics that standardize a user's inputs, computed in chunks of examples so that
no float64 copy of a large training set is ever made."""
from __future__ import annotations

import numpy as np

from ..core.errors import DatasetError

ROWS = 4096  # examples per chunk


def chunks(x: np.ndarray):
    for start in range(0, len(x), ROWS):
        chunk = x[start:start + ROWS].astype(np.float64)
        yield chunk / 255.0 if x.dtype == np.uint8 else chunk  # as `to_arrays` scales pixels


def check_finite(name: str, key: str, x: np.ndarray) -> None:
    if x.dtype.kind == "f" and not all(np.isfinite(chunk).all() for chunk in chunks(x)):
        raise DatasetError(f"Dataset '{name}': {key} holds NaN or infinite values; every value must be finite.")


def input_stats(name: str, x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std of the training inputs: per channel for images (N, C, H, W), else one value."""
    axes = (0, 2, 3) if x.ndim == 4 else tuple(range(x.ndim))
    count = len(x) * (x[:1].size // (x.shape[1] if x.ndim == 4 else 1))
    total = sum(chunk.sum(axis=axes) for chunk in chunks(x))
    mean = np.atleast_1d(total / count)
    shape = (1, -1, 1, 1) if x.ndim == 4 else (1,) * x.ndim
    spread = sum(((chunk - mean.reshape(shape)) ** 2).sum(axis=axes) for chunk in chunks(x))
    std = np.sqrt(np.atleast_1d(spread / count))
    if (std == 0).any():
        raise DatasetError(f"Dataset '{name}': the training inputs are constant (std 0 in channel "
                           f"{int(np.argmax(std == 0))}), so they cannot be standardized; give std=... or "
                           "normalize=False to register_dataset.")
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def per_channel(name: str, what: str, values: tuple[float, ...], shape: tuple[int, ...]) -> tuple[float, ...]:
    channels = shape[0] if len(shape) == 3 else 1
    if len(values) == 1:  # one value given for every channel
        values = values * channels
    if len(values) != channels:
        raise DatasetError(f"Dataset '{name}': {what} gives {len(values)} values, but the inputs of shape {shape} "
                           f"have {channels} channel(s); give one value per channel.")
    return values
