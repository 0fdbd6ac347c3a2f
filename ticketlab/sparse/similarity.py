"""Subnetwork similarity, the measures: how much several masks overlap, and where that
changes abruptly along a sparsity path.

For masks m_1..m_K at one point of a sparsity path (an IMP level, a density):
- J(m_i, m_j) = |m_i AND m_j| / |m_i OR m_j| over all prunable weights, and per layer;
- S_k = the mean of J(m_k, m_j) over j != k (how typical subnetwork k is);
- the mean score, the mean of the S_k.

Along the path, a collapse is an abrupt change of the mean score, up or down. Each step
i (point i to point i + 1) has a slope, its change of score divided by its change of
sparsity, so the rule depends on the path and not on the spacing of its grid. The
yardstick of step i is the other steps: their robust trend (the Theil-Sen line through
their slopes against the steps' mid sparsities, kept within the range of their slopes so
that it never extrapolates past what the path showed) predicts the slope of step i, and
their spread about that trend (1.4826 MAD of their residuals) scales it. Step i is
flagged when its slope departs from the prediction by more than `factor` spreads, and
when that departure, times the step's change of sparsity, moves the score by more than
`min_jump`: a floor in units of the score itself, so that noise on a narrow step (97 ->
98%) is not flagged however steep it makes the slope. Leaving the step out of its own
yardstick lets short paths flag a jump; with 3 points (2 steps), the steeper step is
flagged when it moves the score by more than `min_jump` beyond what the other's slope
would have over the same change of sparsity.
A step that does not change the sparsity has no slope and is left out. It needs no
labels, so it can warn before compute is spent on an over-sparse level (Routing the
Lottery, section 7 of the methods notes). A path that is linear or gently curved in
sparsity stays quiet, however unevenly its grid is spaced.

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


def collapse_steps(values: list[float], sparsities: list[float], factor: float = 3.0,
                   min_jump: float = 0.05) -> list[int]:
    """Indices i where the step values[i] -> values[i + 1], at sparsities[i] ->
    sparsities[i + 1], is abrupt (see the module docstring)."""
    if len(values) != len(sparsities):
        raise ValueError(f"{len(values)} values but {len(sparsities)} sparsities")
    # (index, change of sparsity, slope, mid sparsity) of every step that moves the sparsity
    steps = [(i, t - s, (b - a) / (t - s), (s + t) / 2)
             for i, (a, b, s, t) in enumerate(zip(values, values[1:], sparsities, sparsities[1:])) if t != s]
    if len(steps) < 2:
        return []
    if len(steps) == 2:  # each step is the other's only yardstick: flag the steeper, if it stands out
        steeper, other = sorted(steps, key=lambda st: -abs(st[2]))
        return [steeper[0]] if abs((steeper[2] - other[2]) * steeper[1]) > min_jump else []
    flagged = []
    for i, width, slope, mid in steps:
        others = [st for st in steps if st[0] != i]
        intercept, trend = _theil_sen([st[3] for st in others], [st[2] for st in others])
        spread = 1.4826 * statistics.median(abs(st[2] - intercept - trend * st[3]) for st in others)
        low, high = min(st[2] for st in others), max(st[2] for st in others)
        departure = slope - min(max(intercept + trend * mid, low), high)
        if abs(departure) > factor * spread and abs(departure * width) > min_jump:
            flagged.append(i)
    return flagged


def _theil_sen(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the Theil-Sen line: the median of the pairwise slopes, then the
    median intercept."""
    pairs = [(ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(len(xs)) for j in range(i + 1, len(xs))
             if xs[j] != xs[i]]
    slope = statistics.median(pairs) if pairs else 0.0
    return statistics.median(y - slope * x for x, y in zip(xs, ys)), slope


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
