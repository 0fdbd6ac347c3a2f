"""Leaderboard tables and curves from synthetic records whose answer is known."""
from __future__ import annotations

import random

import pytest
from scipy import stats as sst

from ticketlab.bench.rankings import (ALPHA, TEST_NAME, CurvePoint, RankingRow, RankingTable, RecordError,
                                      curve_points, ranking_tables)
from ticketlab.core.errors import TicketlabError

SETTING = "fashion_mnist/lenet_300_100"


def record(method: str, seed: int, accuracy: float, target: float = 0.2, *, setting: str = SETTING,
           learned: bool = True, density: float | None = None, steps: int = 1000,
           seconds: float = 2.0) -> dict:
    dataset, model = setting.split("/")
    return {"suite": "cpu", "setting": setting, "dataset": dataset, "model": model, "method": method,
            "seed": seed, "target_density": target, "density": target * 1.05 if density is None else density,
            "test_accuracy": accuracy, "learned": learned, "steps": steps, "seconds": seconds,
            "device": "cpu", "run_id": f"{method}-{seed}", "unit": "level_01", "provenance": "p0"}


# imp is clearly best; random and snip overlap, noisily, well below it.
IMP = [0.905, 0.912, 0.899, 0.908, 0.903]
RANDOM = [0.842, 0.851, 0.838, 0.849, 0.845]
SNIP = [0.846, 0.843, 0.847, 0.841, 0.850]


def three_methods(target: float = 0.2, setting: str = SETTING) -> list[dict]:
    return [record(name, seed, acc, target, setting=setting)
            for name, values in (("random", RANDOM), ("snip", SNIP), ("imp", IMP))
            for seed, acc in enumerate(values)]


def test_test_name_states_the_test_and_alpha():
    assert ALPHA == 0.05
    assert "paired t-test" in TEST_NAME and "0.05" in TEST_NAME


def test_a_clearly_better_method_ranks_first_and_is_distinguishable():
    (table,) = ranking_tables(three_methods())
    assert isinstance(table, RankingTable)
    assert (table.setting, table.dataset, table.model, table.target_density) == (
        SETTING, "fashion_mnist", "lenet_300_100", 0.2)
    assert [row.rank for row in table.rows] == [1, 2, 3]
    best = table.rows[0]
    assert best.method == "imp" and best.tied_with_best and best.p_vs_best is None
    for row in table.rows[1:]:
        values = RANDOM if row.method == "random" else SNIP
        assert row.p_vs_best == pytest.approx(sst.ttest_rel(IMP, values).pvalue, rel=1e-9)
        assert row.p_vs_best < ALPHA and not row.tied_with_best
    assert all("imp" not in pair[:2] for pair in table.indistinct)


def test_overlapping_noisy_methods_are_listed_as_indistinct_upper_first():
    (table,) = ranking_tables(three_methods())
    means = {row.method: row.mean for row in table.rows}
    upper, lower = sorted(("random", "snip"), key=lambda m: -means[m])
    ((a, b, p),) = table.indistinct
    assert (a, b) == (upper, lower)
    assert p == pytest.approx(sst.ttest_rel(RANDOM, SNIP).pvalue, rel=1e-9) and p >= ALPHA


def test_row_numbers_are_the_means_std_and_t_interval_over_seeds():
    records = [record("imp", s, acc, density=0.21 + s / 100, steps=100 * (s + 1), seconds=1.0 + s)
               for s, acc in enumerate(IMP)]
    (table,) = ranking_tables(records)
    (row,) = table.rows
    n = len(IMP)
    mean = sum(IMP) / n
    low, high = sst.t.interval(0.95, n - 1, loc=mean, scale=sst.sem(IMP))
    assert row == RankingRow(rank=1, method="imp", n=n, mean=pytest.approx(mean, rel=1e-14),
                             std=pytest.approx(sst.tstd(IMP), rel=1e-12), ci_low=pytest.approx(low, rel=1e-10),
                             ci_high=pytest.approx(high, rel=1e-10), density=pytest.approx(0.23, rel=1e-12),
                             steps=300.0, seconds=3.0, not_learned=0, tied_with_best=True, p_vs_best=None)
    assert table.indistinct == ()


def test_not_learned_seeds_are_counted_and_still_in_the_mean():
    records = [record("imp", 0, 0.90), record("imp", 1, 0.10, learned=False), record("imp", 2, 0.92),
               record("snip", 0, 0.10, learned=False), record("snip", 1, 0.10, learned=False),
               record("snip", 2, 0.86)]
    (table,) = ranking_tables(records)
    rows = {row.method: row for row in table.rows}
    assert rows["imp"].not_learned == 1 and rows["imp"].mean == pytest.approx((0.90 + 0.10 + 0.92) / 3)
    assert rows["snip"].not_learned == 2 and rows["snip"].mean == pytest.approx((0.10 + 0.10 + 0.86) / 3)
    assert rows["imp"].n == rows["snip"].n == 3


def test_duplicate_records_raise_naming_them():
    records = three_methods() + [record("snip", 7, 0.5), record("imp", 7, 0.1, target=0.5)]
    records += [record("snip", 7, 0.6), record("snip", 0, 0.3)]  # snip 0 is record 5
    with pytest.raises(ValueError, match=r"setting='fashion_mnist/lenet_300_100' method='snip' "
                                         r"target_density=0.2 seed=7 \(records 15, 17\)") as caught:
        ranking_tables(records)
    assert isinstance(caught.value, TicketlabError) and isinstance(caught.value, RecordError)
    assert "method='snip' target_density=0.2 seed=0 (records 5, 18)" in str(caught.value)
    assert "'imp'" not in str(caught.value)  # imp seed 7 at 0.5 is another cell
    with pytest.raises(ValueError, match="seed=7"):
        curve_points(records)


def test_a_record_without_a_needed_field_or_a_setting_of_two_models_is_refused():
    broken = record("imp", 0, 0.9)
    del broken["test_accuracy"]
    with pytest.raises(RecordError, match="record 0 lacks the field.*test_accuracy"):
        ranking_tables([broken])
    other = record("imp", 1, 0.9)
    other["model"] = "conv_2"
    with pytest.raises(RecordError, match="lenet_300_100 and of fashion_mnist/conv_2"):
        ranking_tables([record("imp", 0, 0.9), other])


def test_fewer_than_two_shared_seeds_is_untestable_and_counts_as_tied():
    records = [record("imp", 0, 0.95), record("imp", 1, 0.96), record("snip", 1, 0.50), record("snip", 2, 0.52),
               record("random", 5, 0.10)]
    (table,) = ranking_tables(records)
    assert [row.method for row in table.rows] == ["imp", "snip", "random"]
    for row in table.rows[1:]:
        assert row.p_vs_best is None and row.tied_with_best
    assert table.indistinct == (("imp", "snip", None), ("imp", "random", None), ("snip", "random", None))
    lonely = table.rows[2]
    assert lonely.n == 1 and lonely.std == 0.0 and lonely.ci_low == lonely.ci_high == lonely.mean == 0.10


def test_equal_means_rank_by_method_name_and_equal_values_are_tied():
    records = [record(m, s, acc) for m in ("snip", "grasp") for s, acc in enumerate([0.8, 0.7, 0.9])]
    (table,) = ranking_tables(records)
    assert [(row.rank, row.method) for row in table.rows] == [(1, "grasp"), (2, "snip")]
    assert table.rows[1].p_vs_best == 1.0 and table.rows[1].tied_with_best
    assert table.indistinct == (("grasp", "snip", 1.0),)


def test_tables_skip_dense_and_sort_by_setting_then_density_descending():
    records = (three_methods(0.2, "mnist/lenet_300_100") + three_methods(0.5, "mnist/lenet_300_100")
               + three_methods(0.05, "cifar10/conv_2") + three_methods(0.8, "cifar10/conv_2")
               + [record("dense", s, 0.99, 1.0, setting="cifar10/conv_2", density=1.0) for s in range(3)])
    tables = ranking_tables(records)
    assert [(t.setting, t.target_density) for t in tables] == [
        ("cifar10/conv_2", 0.8), ("cifar10/conv_2", 0.05),
        ("mnist/lenet_300_100", 0.5), ("mnist/lenet_300_100", 0.2)]
    assert all("dense" not in [row.method for row in t.rows] for t in tables)
    assert tables[0].dataset == "cifar10" and tables[0].model == "conv_2"
    shuffled = list(records)
    random.Random(3).shuffle(shuffled)
    assert ranking_tables(shuffled) == tables  # the order of the records changes nothing


def test_curve_points_per_setting_and_method_with_dense_and_seed_bands():
    records = (three_methods(0.2) + three_methods(0.5)
               + [record("dense", s, acc, 1.0, density=1.0) for s, acc in enumerate([0.98, 0.99])]
               + three_methods(0.1, "cifar10/conv_2"))
    curves = curve_points(records)
    assert list(curves) == ["cifar10/conv_2", SETTING]
    assert list(curves[SETTING]) == ["dense", "imp", "random", "snip"]
    assert curves[SETTING]["dense"] == [CurvePoint(1.0, 1.0, pytest.approx(0.985), 0.98, 0.99, 2)]
    imp = curves[SETTING]["imp"]
    assert [point.target_density for point in imp] == [0.5, 0.2]
    point = imp[1]
    assert point == (0.2, pytest.approx(0.21), pytest.approx(sum(IMP) / 5), min(IMP), max(IMP), 5)
    assert point.min <= point.mean <= point.max
    assert curves["cifar10/conv_2"]["snip"][0].n == 5
    assert curve_points([]) == {} and ranking_tables([]) == []
