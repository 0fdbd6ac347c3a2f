"""Modular arithmetic (Power et al. 2022, "Grokking: Generalization beyond overfitting on
small algorithmic datasets", arXiv 2201.02177), generated: `modular_OP_P[_F]`.

Every pair (a, b) in [0, P)^2 (b != 0 for division) written as the tokens [a, op, b, =],
op being token P and = token P+1, labelled (a op b) mod P; division is a * b^(P-2) mod P
(the inverse of b by Fermat). As in the paper the training set is a random subset of all
the equations and the rest is the test set; unlike it, the answer is a class rather than
a next token to predict. The split is one fixed permutation of the pairs, drawn from
`SEED` by NumPy's legacy `RandomState` (whose stream never changes): it depends on how
many pairs there are, not on the operation, and a smaller train fraction trains on a
subset of a larger one's pairs. A pure function of its arguments, so a name always gives
the same arrays (the name is parsed in sequence_names.py).
"""
from __future__ import annotations

import numpy as np

SEED = 20220106


def generate(op: str, p: int, train_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): x (N, 4) int64 tokens [a, op, b, =], y int64
    (a op b) mod p; the first `train_size` pairs of the permutation train, the rest test."""
    a, b = np.divmod(np.arange(p * p, dtype=np.int64), p)
    if op == "div":
        a, b = a[b != 0], b[b != 0]
    if op == "add":
        y = (a + b) % p
    elif op == "sub":
        y = (a - b) % p
    elif op == "mul":
        y = (a * b) % p
    elif op == "div":
        inverse = np.array([0] + [pow(v, p - 2, p) for v in range(1, p)], dtype=np.int64)
        y = (a * inverse[b]) % p
    else:
        raise ValueError(f"unknown modular operation {op!r}")
    x = np.stack([a, np.full_like(a, p), b, np.full_like(a, p + 1)], axis=1)
    order = np.random.RandomState(SEED).permutation(len(y))
    train, test = order[:train_size], order[train_size:]
    return x[train], y[train], x[test], y[test]
