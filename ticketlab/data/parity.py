"""Sparse parity (Barak et al. 2022, "Hidden progress in deep learning: SGD learns
parities near the computational limit", arXiv 2207.08799), generated: `parity_N_K[_T]`.

N uniform random bits (tokens 0 and 1) labelled by the XOR of K secret positions, which
`secret(N, K)` gives: K distinct positions drawn from (`SEED`, N, K), sorted. The paper
samples fresh examples at every step; here the training set is a fixed draw of T
examples and the test set another, each i.i.d. from its own stream, (SEED, N, K, 1) and
(SEED, N, K, 2): the first T training examples are the same for every T, and the test
set does not depend on T. For small N the test inputs also occur in the training set
(there are only 2^N inputs). Drawn by NumPy's legacy `RandomState`, whose streams never
change, so a name always gives the same arrays (it is parsed in sequence_names.py).
"""
from __future__ import annotations

import numpy as np

SEED = 20220718


def secret(n: int, k: int) -> np.ndarray:
    """The K secret positions (sorted, in 0..N-1) whose XOR labels `parity_N_K[_T]`."""
    return np.sort(np.random.RandomState([SEED, n, k]).choice(n, k, replace=False)).astype(np.int64)


def generate(n: int, k: int, train_size: int, test_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): x (M, n) int64 bits, y int64 the XOR of the bits
    at `secret(n, k)`."""
    positions = secret(n, k)

    def draw(stream: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.random.RandomState([SEED, n, k, stream]).randint(0, 2, size=(size, n)).astype(np.int64)
        return x, x[:, positions].sum(axis=1) % 2

    return (*draw(1, train_size), *draw(2, test_size))
