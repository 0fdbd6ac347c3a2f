"""Leaderboard tables and accuracy-vs-density curves from the records of `bench.json`.

One table per (setting, target density): the methods ranked by mean test accuracy over
seeds, each with its spread, its 95% t-interval and whether a paired t-test over the
seeds it shares with the best method can tell the two apart. A benchmark has few seeds,
so a higher mean alone proves little; the table says which gaps are real.

No torch, no numpy: the page is rendered from these where neither may be installed.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from ticketlab.bench.stats import mean, paired_t_test, sample_std, t_interval
from ticketlab.core.errors import TicketlabError

ALPHA = 0.05
TEST_NAME = f"two-sided paired t-test over shared seeds, alpha = {ALPHA}"
DENSE = "dense"  # the dense network of a setting: a reference line, never ranked

_FIELDS = ("setting", "dataset", "model", "method", "seed", "target_density", "density",
           "test_accuracy", "learned", "steps", "seconds")


class RecordError(TicketlabError, ValueError):
    """Benchmark records that cannot be ranked: a missing field, a duplicate, a setting
    whose records disagree on its dataset or model."""


@dataclass(frozen=True)
class RankingRow:
    rank: int                 # 1 = best mean
    method: str
    n: int                    # seeds measured
    mean: float               # of test_accuracy (fractions)
    std: float                # sample std (ddof = 1), 0 when n == 1
    ci_low: float             # 95% t-interval of the mean (equal to mean when n == 1)
    ci_high: float
    density: float            # mean actual density
    steps: float              # mean optimizer steps over seeds
    seconds: float            # mean training seconds over seeds
    not_learned: int          # seeds whose network did not learn
    tied_with_best: bool      # not distinguishable from rank 1 (rank 1 itself: True)
    p_vs_best: float | None   # p of the test against rank 1 (None for rank 1 / untestable)


@dataclass(frozen=True)
class RankingTable:
    setting: str
    dataset: str
    model: str
    target_density: float
    rows: tuple[RankingRow, ...]
    # pairs (a, b, p) the test cannot tell apart, a ranked above b; p None: untestable
    indistinct: tuple[tuple[str, str, float | None], ...]


class CurvePoint(NamedTuple):
    """One method at one target density, over its seeds (for a line with a seed band)."""
    target_density: float
    density: float            # mean actual density
    mean: float               # mean test accuracy
    min: float
    max: float
    n: int


def _checked(records: Iterable[dict]) -> list[dict]:
    """The records, after checking each has the fields used here and that no
    (setting, method, target_density, seed) occurs twice (a merge gone wrong would
    otherwise count one seed twice and shrink every interval)."""
    records = list(records)
    where: dict[tuple, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        missing = [f for f in _FIELDS if f not in record]
        if missing:
            raise RecordError(f"Benchmark record {i} lacks the field(s) {', '.join(missing)}; "
                              f"every record needs {', '.join(_FIELDS)}.")
        where[(record["setting"], record["method"], record["target_density"], record["seed"])].append(i)
    duplicates = [f"setting={key[0]!r} method={key[1]!r} target_density={key[2]!r} seed={key[3]!r} "
                  f"(records {', '.join(map(str, found))})" for key, found in where.items() if len(found) > 1]
    if duplicates:
        raise RecordError("Benchmark records must be unique per (setting, method, target_density, "
                          "seed); these occur more than once: " + "; ".join(duplicates) + ".")
    return records


def _setting_names(records: list[dict]) -> dict[str, tuple[str, str]]:
    """setting -> (dataset, model), refusing a setting whose records disagree."""
    names: dict[str, tuple[str, str]] = {}
    for record in records:
        pair = (record["dataset"], record["model"])
        known = names.setdefault(record["setting"], pair)
        if known != pair:
            raise RecordError(f"Setting {record['setting']!r} has records of dataset/model "
                              f"{known[0]}/{known[1]} and of {pair[0]}/{pair[1]}; a setting is one "
                              f"dataset and one model.")
    return names


def _by_seed(records: list[dict]) -> dict[int, float]:
    return {r["seed"]: float(r["test_accuracy"]) for r in records}


def _p_value(a: list[dict], b: list[dict]) -> float | None:
    result = paired_t_test(_by_seed(a), _by_seed(b))
    return None if result is None else result.p_value


def _distinct(p: float | None) -> bool:
    """Whether a test tells two methods apart; an untestable pair (fewer than 2 shared
    seeds) is not told apart."""
    return p is not None and p < ALPHA


def _row(rank: int, method: str, runs: list[dict], p_vs_best: float | None) -> RankingRow:
    accuracies = [float(r["test_accuracy"]) for r in runs]
    low, high = t_interval(accuracies, 0.95)
    return RankingRow(
        rank=rank, method=method, n=len(runs), mean=mean(accuracies), std=sample_std(accuracies),
        ci_low=low, ci_high=high, density=mean([float(r["density"]) for r in runs]),
        steps=mean([float(r["steps"]) for r in runs]),
        seconds=mean([float(r["seconds"]) for r in runs]),
        not_learned=sum(1 for r in runs if not r["learned"]),
        tied_with_best=rank == 1 or not _distinct(p_vs_best), p_vs_best=p_vs_best)


def _table(setting: str, names: tuple[str, str], target_density: float,
           methods: dict[str, list[dict]]) -> RankingTable:
    means = {m: mean([float(r["test_accuracy"]) for r in runs]) for m, runs in methods.items()}
    order = sorted(methods, key=lambda m: (-means[m], m))
    best = methods[order[0]]
    rows = tuple(_row(rank, m, methods[m], None if rank == 1 else _p_value(methods[m], best))
                 for rank, m in enumerate(order, start=1))
    indistinct = []
    for i, upper in enumerate(order):
        for lower in order[i + 1:]:
            p = _p_value(methods[upper], methods[lower])
            if not _distinct(p):
                indistinct.append((upper, lower, p))
    return RankingTable(setting=setting, dataset=names[0], model=names[1],
                        target_density=target_density, rows=rows, indistinct=tuple(indistinct))


def ranking_tables(records: Iterable[dict]) -> list[RankingTable]:
    """One table per (setting, target_density), the dense reference excluded, sorted
    by setting name, then target density descending."""
    records = _checked(records)
    names = _setting_names(records)
    cells: dict[tuple[str, float], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record["method"] != DENSE:
            cells[(record["setting"], record["target_density"])][record["method"]].append(record)
    return [_table(setting, names[setting], density, cells[(setting, density)])
            for setting, density in sorted(cells, key=lambda key: (key[0], -key[1]))]


def curve_points(records: Iterable[dict]) -> dict[str, dict[str, list[CurvePoint]]]:
    """setting -> method -> its points, target density descending; "dense" included
    (the plots draw it as the reference). Settings and methods come in name order."""
    records = _checked(records)
    cells: dict[str, dict[str, dict[float, list[dict]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for record in records:
        cells[record["setting"]][record["method"]][record["target_density"]].append(record)
    curves: dict[str, dict[str, list[CurvePoint]]] = {}
    for setting in sorted(cells):
        curves[setting] = {}
        for method in sorted(cells[setting]):
            points = []
            for target in sorted(cells[setting][method], reverse=True):
                runs = cells[setting][method][target]
                accuracies = [float(r["test_accuracy"]) for r in runs]
                points.append(CurvePoint(target, mean([float(r["density"]) for r in runs]),
                                         mean(accuracies), min(accuracies), max(accuracies), len(runs)))
            curves[setting][method] = points
    return curves
