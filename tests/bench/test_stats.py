"""The pure-Python statistics agree with scipy, and their edge cases are plain."""
from __future__ import annotations

import math
import random

import pytest
from scipy import special
from scipy import stats as sst

from ticketlab.bench.stats import (PairedTest, betainc, mean, paired_t_test, sample_std, t_cdf, t_interval,
                                   t_ppf, t_tail)
from ticketlab.core.errors import TicketlabError

DFS = (1, 2, 4, 10, 30)


def close(a: float, b: float, rel: float = 1e-11, abs_: float = 1e-14) -> bool:
    return abs(a - b) <= max(rel * abs(b), abs_)


def test_mean_and_sample_std_match_the_textbook():
    values = [0.88, 0.91, 0.87, 0.9]
    assert mean(values) == pytest.approx(sum(values) / 4, rel=1e-15)
    assert sample_std(values) == pytest.approx(sst.tstd(values), rel=1e-13)  # ddof = 1
    assert sample_std([0.5]) == 0.0
    assert sample_std([0.1, 0.1, 0.1]) == 0.0  # exactly, not rounding noise
    assert mean([0.1, 0.1, 0.1]) == 0.1


def test_no_values_is_a_plain_error():
    with pytest.raises(TicketlabError, match="at least one value"):
        mean([])
    with pytest.raises(TicketlabError, match="at least one value"):
        sample_std([])


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (2.0, 3.0), (15.0, 0.5), (0.5, 40.0), (100.0, 80.0)])
def test_incomplete_beta_matches_scipy(a, b):
    for x in (1e-12, 0.01, 0.2, 0.5, 0.77, 0.999, 1.0 - 1e-9):
        assert close(betainc(a, b, x), special.betainc(a, b, x), rel=1e-10), (a, b, x)
    assert betainc(a, b, 0.0) == 0.0 and betainc(a, b, 1.0) == 1.0


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_matches_scipy(df):
    for t in (-1e6, -40.0, -3.0, -1.0, -0.1, 0.0, 0.3, 1.0, 2.2, 6.0, 40.0, 1e6):
        assert close(t_cdf(t, df), sst.t.cdf(t, df)), (df, t)
        assert close(t_tail(t, df), sst.t.sf(abs(t), df)), (df, t)  # small tails stay relative
    assert t_cdf(math.inf, df) == 1.0 and t_cdf(-math.inf, df) == 0.0


@pytest.mark.parametrize("df", DFS)
def test_t_ppf_matches_scipy_and_inverts_the_cdf(df):
    for q in (1e-9, 1e-4, 0.025, 0.05, 0.3, 0.5, 0.6, 0.95, 0.975, 0.995, 1 - 1e-7):
        t = t_ppf(q, df)
        assert close(t, sst.t.ppf(q, df), rel=1e-10), (df, q)
        assert close(t_cdf(t, df), q, rel=1e-10), (df, q)
    assert t_ppf(0.5, df) == 0.0
    assert t_ppf(0.1, df) == -t_ppf(0.9, df)


def test_t_ppf_knows_the_table_values():
    assert t_ppf(0.975, 1) == pytest.approx(12.706204736, rel=1e-9)
    assert t_ppf(0.975, 4) == pytest.approx(2.776445105, rel=1e-9)
    assert t_ppf(0.975, 30) == pytest.approx(2.042272456, rel=1e-9)


@pytest.mark.parametrize("bad_q", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_t_ppf_refuses_a_q_outside_the_open_unit_interval(bad_q):
    with pytest.raises(TicketlabError, match="0 < q < 1"):
        t_ppf(bad_q, 3)


@pytest.mark.parametrize("bad_df", [0, -1, math.inf, math.nan])
def test_t_refuses_bad_degrees_of_freedom(bad_df):
    with pytest.raises(TicketlabError, match="degrees of freedom"):
        t_cdf(1.0, bad_df)


@pytest.mark.parametrize("n", [2, 3, 5, 11, 31])
def test_t_interval_matches_scipy(n):
    rng = random.Random(1000 + n)
    values = [rng.gauss(0.85, 0.02) for _ in range(n)]
    low, high = t_interval(values)
    ref_low, ref_high = sst.t.interval(0.95, n - 1, loc=sum(values) / n, scale=sst.sem(values))
    assert close(low, ref_low, rel=1e-10) and close(high, ref_high, rel=1e-10)
    low99, high99 = t_interval(values, 0.99)
    assert low99 < low < high < high99


def test_t_interval_of_one_value_or_equal_values_is_the_mean():
    assert t_interval([0.875]) == (0.875, 0.875)
    assert t_interval([0.3, 0.3, 0.3]) == (0.3, 0.3)
    with pytest.raises(TicketlabError, match="between 0 and 1"):
        t_interval([0.1, 0.2], confidence=95)


@pytest.mark.parametrize("n", [2, 3, 5, 11, 31])
def test_paired_t_test_matches_scipy_ttest_rel(n):
    rng = random.Random(n)
    a = {seed: rng.gauss(0.85, 0.02) for seed in range(n)}
    b = {seed: a[seed] - 0.01 + rng.gauss(0.0, 0.015) for seed in range(n)}
    result = paired_t_test(a, b)
    ref = sst.ttest_rel([a[s] for s in range(n)], [b[s] for s in range(n)])
    assert result.n == n
    assert close(result.statistic, ref.statistic, rel=1e-10)
    assert close(result.p_value, ref.pvalue, rel=1e-9)
    assert paired_t_test(b, a).p_value == pytest.approx(result.p_value, rel=1e-12)  # two-sided


def test_paired_t_test_pairs_by_seed_over_the_shared_seeds_only():
    a = {0: 0.90, 1: 0.80, 2: 0.85, 7: 0.10}
    b = {2: 0.84, 0: 0.88, 1: 0.81, 9: 0.99}  # other order, other extra seed
    ref = sst.ttest_rel([0.90, 0.80, 0.85], [0.88, 0.81, 0.84])
    result = paired_t_test(a, b)
    assert result.n == 3
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.mean_diff == pytest.approx((0.02 - 0.01 + 0.01) / 3, rel=1e-9)


def test_paired_t_test_edge_cases():
    assert paired_t_test({0: 0.9}, {0: 0.8}) is None  # one shared seed
    assert paired_t_test({0: 0.9, 1: 0.9}, {2: 0.8, 3: 0.8}) is None  # none shared
    assert paired_t_test({}, {}) is None
    same = paired_t_test({0: 0.9, 1: 0.8, 2: 0.7}, {0: 0.9, 1: 0.8, 2: 0.7})
    assert same == PairedTest(n=3, mean_diff=0.0, statistic=0.0, p_value=1.0)
    shifted = paired_t_test({0: 0.75, 1: 0.5, 2: 0.25}, {0: 0.5, 1: 0.25, 2: 0.0})  # exact in binary
    assert shifted.p_value == 0.0 and shifted.statistic == math.inf and shifted.mean_diff == 0.25
    below = paired_t_test({0: 0.5, 1: 0.25}, {0: 0.75, 1: 0.5})
    assert below.p_value == 0.0 and below.statistic == -math.inf
