"""List operations (Nangia & Bowman 2018, "ListOps", arXiv 1804.06028; the long-range
version of Tay et al. 2021, "Long Range Arena", arXiv 2011.04006), small: `listops_L`.

Nested expressions such as [ MAX 2 9 [ MIN 4 7 ] 0 ] over the digits 0-9 with MAX, MIN,
MED (the median, rounded down for an even count: an integer, as in LRA) and SM (the sum
mod 10), labelled by their value. An operator has 2 to 5 arguments (LRA: up to 10), each
a nested expression with probability 0.6 (LRA: 0.75) while the depth is under 10, else a
digit. Unlike LRA, '[' is a token of its own, the root is always an operator, and an
expression is drawn within a budget of L tokens (each argument gets a fair share of what
is left) rather than redrawn until its length falls in a range: lengths spread from 5 to
L, padded on the right with PAD. No test expression occurs in the training set (a
duplicate is drawn again), so for small L the shortest expressions, which the training
set covers, are rare in the test set. Drawn by Python's `random.random()` from
(`SEED`, L), a stream Python promises never to change (the name: sequence_names.py).
"""
from __future__ import annotations

import random

import numpy as np

SEED = 20180420
PAD, DIGIT, FIRST_OPERATOR, OPEN, CLOSE = 0, 1, 11, 15, 16  # digit d: DIGIT + d; 17 tokens in all
OPERATORS = ("MAX", "MIN", "MED", "SM")  # operator i: FIRST_OPERATOR + i
MAX_ARGS, MAX_DEPTH, NESTED = 5, 10, 0.6


def value(op: int, values: list[int]) -> int:
    """What operator `op` (an index into OPERATORS) gives on its arguments' values."""
    if op < 2:
        return max(values) if op == 0 else min(values)
    if op == 2:
        s, mid = sorted(values), len(values) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) // 2
    return sum(values) % 10


def _expression(draw, budget: int, depth: int, out: list[int]) -> int:
    """Append one expression of at most `budget` tokens to `out`; return its value."""
    if depth and (budget < 5 or depth >= MAX_DEPTH or draw() >= NESTED):
        digit = int(draw() * 10)
        out.append(DIGIT + digit)
        return digit
    op = int(draw() * len(OPERATORS))
    arity = 2 + int(draw() * (min(MAX_ARGS, budget - 3) - 1))  # '[', the operator and ']': three tokens
    out += (OPEN, FIRST_OPERATOR + op)
    left, values = budget - 3, []
    for i in range(arity):
        start = len(out)
        values.append(_expression(draw, left // (arity - i), depth + 1, out))
        left -= len(out) - start
    out.append(CLOSE)
    return value(op, values)


def generate(length: int, train_size: int, test_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): x (M, length) int64 tokens padded with PAD, y int64
    the value 0..9; no test expression is in the training set."""
    draw = random.Random(SEED * 1024 + length).random
    seen, rows, labels = set(), [], []
    for _ in range(100 * (train_size + test_size)):
        if len(rows) == train_size + test_size:
            break
        out: list[int] = []
        label, key = _expression(draw, length, 0, out), bytes(out)
        if len(rows) >= train_size and key in seen:
            continue  # the test set holds no training expression
        if len(rows) < train_size:
            seen.add(key)
        rows.append(key.ljust(length, bytes([PAD])))
        labels.append(label)
    else:
        raise RuntimeError(f"listops_{length}: too few distinct expressions for {test_size} test examples")
    x = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), length).astype(np.int64)
    y = np.array(labels, dtype=np.int64)
    return x[:train_size], y[:train_size], x[train_size:], y[train_size:]
