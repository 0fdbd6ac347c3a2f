"""MNIST-1D (Greydanus & Steinbach, 2020-2024), generated locally and deterministically.

A re-implementation of `make_dataset` from the `mnist1d` package (Apache-2.0), with its
templates and default arguments, drawing the same random numbers in the same order from
a `RandomState(42)` (the stream its global `np.random.seed(42)` gives), so the arrays
equal the package's. Writing it here spares the package's dependencies (requests,
matplotlib) and guarantees its download path is never taken. The result is cached in
the user cache as an .npz written atomically; a damaged cache is simply regenerated.

Only numpy is needed: scipy's linear `interp1d` on 1-D float64 data *is* `np.interp`, and
`_smooth` reproduces `scipy.ndimage.gaussian_filter(x, 2)` on 1-D data operation for
operation (same kernel, same 'reflect' border, same summation order), so the output is
bit-identical to the package's.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import locate
from ..core.ranks import file_change
from .registry import dataset_entry

# The package's defaults (get_dataset_args): 5000 samples, 4000 train / 1000 test.
NUM_SAMPLES, TRAIN_SPLIT, SEED = 5000, 0.8, 42
TEMPLATE_LEN, PADDING, SCALE_COEFF, MAX_TRANSLATION = 12, (36, 60), 0.4, 48
CORR_NOISE_SCALE, IID_NOISE_SCALE, SHEAR_SCALE, FINAL_SEQ_LENGTH = 0.25, 2e-2, 0.75, 40
CACHE_NAME = f"mnist1d-v1-n{NUM_SAMPLES}-seed{SEED}.npz"  # bump if generation ever changes

_DIGITS = [
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5], [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5], [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5], [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5], [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5], [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
]


def templates() -> np.ndarray:
    """The ten 1-D digit outlines, whitened and shifted to start and end at zero."""
    x = np.asarray(_DIGITS, dtype=np.float64)
    x -= x.mean(1, keepdims=True)
    x /= x.std(1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _smooth(x: np.ndarray, sigma: float = 2.0, truncate: float = 4.0) -> np.ndarray:
    """1-D Gaussian filter with scipy.ndimage's kernel, border and order of additions."""
    radius = int(truncate * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (sigma * sigma) * offsets**2)
    weights = weights / weights.sum()
    padded = np.pad(x, radius, mode="symmetric")  # scipy's 'reflect': d c b a | a b c d
    n = len(x)
    out = padded[radius:radius + n] * weights[radius]
    for j in range(radius, 0, -1):  # symmetric kernel: pairs summed from the outside in
        out = out + (padded[radius - j:radius - j + n] + padded[radius + j:radius + j + n]) * weights[radius + j]
    return out


def _transform(x: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Pad, dilate, scale, translate, add noise, shear and subsample one template."""
    low, high = PADDING
    pad = low + int(rng.rand() * (high - low + 1))
    x = _resample(np.concatenate([x + 1e-8, np.zeros(pad)]), TEMPLATE_LEN + high)
    x *= 1 + SCALE_COEFF * (rng.rand() - 0.5)
    k = rng.choice(MAX_TRANSLATION)
    x = np.concatenate([x[-k:], x[:-k]])
    mask = x != 0
    x = mask * x + (1 - mask) * _smooth(CORR_NOISE_SCALE * rng.randn(*x.shape))
    x = x + IID_NOISE_SCALE * rng.randn(*x.shape)
    x = x - SHEAR_SCALE * (rng.rand() - 0.5) * np.linspace(-0.5, 0.5, len(x))
    return _resample(x, FINAL_SEQ_LENGTH)


def generate() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): float32 (N, 40) standardized as the package does, int64."""
    rng = np.random.RandomState(SEED)
    shapes = templates()
    per_class = NUM_SAMPLES // len(shapes)
    xs = np.stack([_transform(shapes[c], rng) for c in range(len(shapes)) for _ in range(per_class)])
    ys = np.repeat(np.arange(len(shapes)), per_class)
    order = rng.permutation(len(ys))
    xs, ys = xs[order], ys[order]
    xs = (xs - xs.mean()) / xs.std()
    split = int(len(ys) * TRAIN_SPLIT)
    xs = xs.astype(np.float32)
    return xs[:split], ys[:split], xs[split:], ys[split:]


def _read_cache(path: Path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = tuple(f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    n_train = int(NUM_SAMPLES * TRAIN_SPLIT)
    ok = arrays[0].shape == (n_train, FINAL_SEQ_LENGTH) and arrays[2].shape == (NUM_SAMPLES - n_train, FINAL_SEQ_LENGTH)
    return arrays if ok else None


def _write_cache(path: Path, arrays) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache only costs regenerating next time


def load_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The dataset, from the cache or generated. In a torchrun job rank 0 alone generates
    and writes the cache while the other ranks wait, then they read it (`file_change`);
    should it be unwritable, each rank generates the same arrays itself."""
    path = locate.cache_dir(dataset_entry("mnist1d")) / CACHE_NAME
    cached = _read_cache(path) if path.is_file() else None
    if cached is not None:
        return cached
    arrays = None
    with file_change() as writer:
        if writer:
            arrays = generate()
            _write_cache(path, arrays)
    if arrays is None:
        arrays = (_read_cache(path) if path.is_file() else None) or generate()
    return arrays
