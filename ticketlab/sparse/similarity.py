"""Subnetwork similarity, the measures: how much several masks overlap, and where that
changes abruptly along a sparsity path.

For masks m_1..m_K at one point of a sparsity path (an IMP level, a density):
- J(m_i, m_j) = |m_i AND m_j| / |m_i OR m_j| over all prunable weights, and per layer;
- S_k = the mean of J(m_k, m_j) over j != k (how typical subnetwork k is);
- the mean score, the mean of the S_k.

Along the path, a collapse is an abrupt change of the mean score, up or down: a step
whose change departs from the typical step of the others (their median) by more than
`factor` robust deviations of the others (1.4826 MAD) and by at least `min_jump`.
Leaving the step out of its own yardstick lets short paths flag a jump; with 3 points
(2 steps), the larger step is flagged when the two differ by more than `min_jump`.
Steps are taken as the path gives them, not divided by their change of sparsity. It needs no labels, so it can
warn before compute is spent on an over-sparse level (Routing the Lottery, section 7 of
the methods notes). A smooth path, however curved, stays quiet.

Methods use these during their work (Routing the Lottery scores its subnetworks);
`analysis/similarity.py` applies them to finished runs.
"""
from __future__ import annotations

import math
import statistics

import torch

from .mask import Mask


def jaccard_matrix(masks: list[Mask], layer: str | None = None) -> list[list[float]]:
    """K x K Jaccard indices over all weights (or one layer); 1 on the diagonal."""
    flat = [torch.cat([m[n].flatten() for n in m]) if layer is None else m[layer].flatten() for m in masks]
    k = len(flat)
    out = [[1.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1, k):
            union = int((flat[i] | flat[j]).sum())
            value = int((flat[i] & flat[j]).sum()) / union if union else 1.0  # two empty masks are equal
            out[i][j] = out[j][i] = value
    return out


def member_scores(matrix: list[list[float]]) -> list[float]:
    """S_k: each member's mean similarity to the others."""
    k = len(matrix)
    if k < 2:
        raise ValueError("similarity needs at least two masks")
    return [sum(matrix[i][j] for j in range(k) if j != i) / (k - 1) for i in range(k)]


def collapse_steps(values: list[float], factor: float = 3.0, min_jump: float = 0.05) -> list[int]:
    """Indices i where the step values[i] -> values[i + 1] is abrupt (see the module docstring)."""
    steps = [b - a for a, b in zip(values, values[1:])]
    if len(steps) < 2:
        return []
    if len(steps) == 2:  # each step is the other's only yardstick: flag the larger, if it stands out
        larger = max((0, 1), key=lambda i: abs(steps[i]))
        return [larger] if abs(steps[0] - steps[1]) > min_jump else []
    flagged = []
    for i, step in enumerate(steps):
        others = steps[:i] + steps[i + 1:]
        typical = statistics.median(others)
        spread = 1.4826 * statistics.median(abs(s - typical) for s in others)
        if abs(step - typical) > max(factor * spread, min_jump):
            flagged.append(i)
    return flagged


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation, ties given their average rank."""
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for t in range(i, j + 1):
                out[order[t]] = (i + j) / 2
            i = j + 1
        return out

    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    var = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return cov / var if var else 0.0
