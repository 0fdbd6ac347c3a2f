"""Measured points (one run's metric at one density) and their summaries over seeds."""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

# The IMP trunk first, then its controls in the order the LTH papers discuss them;
# any other method (SNIP, RigL, ...) follows alphabetically.
METHOD_ORDER = ("imp", "reinit", "random", "random_global", "random_uniform", "oneshot",
                "snip", "grasp", "synflow", "random_init", "set", "rigl", "rst", "rst_scratch",
                "elastic", "elastic_shuffled", "elastic_reinit", "elastic_random", "dense")


def method_sort_key(method: str) -> tuple[int, str]:
    if method in METHOD_ORDER:
        return (METHOD_ORDER.index(method), "")
    return (len(METHOD_ORDER), method)


@dataclass(frozen=True)
class Point:
    method: str
    density: float          # kept / prunable weights
    value: float            # the metric, e.g. test accuracy in [0, 1]
    seed: int
    level: int | None = None  # IMP level when there is one
    group: str = ""         # experiment label; reports show groups apart

    def __post_init__(self):
        # Written as a negation so that NaN is refused too.
        if not 0 < self.density <= 1:
            raise ValueError(f"density must be in (0, 1], got {self.density!r} ({self.method}, seed {self.seed})")


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
