"""Measured points (one run's metric at one density) and their summaries over seeds."""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from ..methods import Point, curve_order

def method_sort_key(method: str) -> tuple[int, str]:
    """Reports list curves in the order the methods declare them (`Method.curves`: the IMP
    trunk first, then its controls in the order the LTH papers discuss them, then the
    baselines); any other curve follows alphabetically."""
    order = curve_order()
    if method in order:
        return (order.index(method), "")
    return (len(order), method)


@dataclass(frozen=True)
class Summary:
    group: str
    method: str
    level: int | None
    density: float          # mean over seeds
    mean: float
    std: float              # sample std (ddof=1); 0.0 when n == 1
    n: int
    seeds: tuple[int, ...]


def _key(p: Point) -> tuple:
    # A level names the same IMP round across seeds even when densities differ in the
    # last digits; without one, points meet on their density.
    if p.level is not None:
        return (p.group, p.method, "level", p.level)
    return (p.group, p.method, "density", round(p.density, 6))


def _summary(points: list[Point]) -> Summary:
    seeds = [p.seed for p in points]
    if len(set(seeds)) != len(seeds):
        # The same run counted twice would shrink the std and skew the mean.
        p = points[0]
        where = f"level {p.level}" if p.level is not None else f"density {p.density:.6g}"
        raise ValueError(f"duplicate seeds {sorted(seeds)} for {p.group or '-'}/{p.method} at {where}")
    values = [p.value for p in points]
    first = points[0]
    return Summary(group=first.group, method=first.method, level=first.level,
                   density=statistics.fmean(p.density for p in points),
                   mean=statistics.fmean(values),
                   std=statistics.stdev(values) if len(values) > 1 else 0.0,
                   n=len(values), seeds=tuple(sorted(seeds)))


def summary_sort_key(s: Summary) -> tuple:
    return (s.group, method_sort_key(s.method), -s.density, -1 if s.level is None else s.level)


def summarize(points: Iterable[Point]) -> list[Summary]:
    """Mean and sample std over seeds, per (group, method, level or density)."""
    buckets: dict[tuple, list[Point]] = {}
    for p in points:
        buckets.setdefault(_key(p), []).append(p)
    return sorted((_summary(ps) for ps in buckets.values()), key=summary_sort_key)
