"""A tiny, fixed, learnable dataset for tests and smoke runs: no files, instant.

Four classes, each a fixed random 1x8x8 prototype; an example is its class prototype
plus Gaussian noise. The classes are linearly separable with a wide margin, so a tiny
model reaches high accuracy within a few dozen steps, yet the noise keeps it from being
trivial. Drawn from a fixed seed, so every call returns the same arrays.
"""
from __future__ import annotations

import numpy as np

NUM_TRAIN, NUM_TEST, NUM_CLASSES, SHAPE = 512, 256, 4, (1, 8, 8)
SEED = 20240601
NOISE = 1.5


def generate() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test); x float32 of about unit variance, y int64."""
    rng = np.random.default_rng(SEED)
    dim = int(np.prod(SHAPE))
    prototypes = rng.standard_normal((NUM_CLASSES, dim))
    scale = np.sqrt(1 + NOISE**2)  # so each pixel has variance ~1, like normalized data

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.permutation(np.arange(n) % NUM_CLASSES)  # balanced classes, shuffled
        x = (prototypes[y] + NOISE * rng.standard_normal((n, dim))) / scale
        return x.astype(np.float32).reshape(n, *SHAPE), y.astype(np.int64)

    x_train, y_train = draw(NUM_TRAIN)
    x_test, y_test = draw(NUM_TEST)
    return x_train, y_train, x_test, y_test
