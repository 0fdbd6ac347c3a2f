"""Small-sample statistics for the leaderboard: mean, sample std, Student's t
distribution, the t-interval of a mean and the paired t-test over shared seeds.

Pure Python on purpose: the page and the rankings are built where neither numpy nor
scipy may be installed, and the numbers must not depend on which one is. A benchmark
has a handful of seeds per cell, so speed does not matter; exactness near the tails
does (a p-value of 1e-9 must not come out as 0 through a subtraction), which is why
the tail probabilities are computed directly from the incomplete beta function rather
than as one minus a CDF.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ticketlab.core.errors import TicketlabError

_EPS = 1e-15        # relative accuracy the continued fraction stops at
_TINY = 1e-300      # Lentz's guard against a zero denominator
_MAX_TERMS = 10_000  # needs O(sqrt(max(a, b))) terms; a benchmark's df are small


@dataclass(frozen=True)
class PairedTest:
    """The outcome of a two-sided paired t-test of `a - b` over the seeds both have."""
    n: int              # shared seeds
    mean_diff: float    # mean of a - b
    statistic: float    # t (inf when every difference is the same non-zero value)
    p_value: float


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean, by `fsum` (exact sum, so the order of the seeds cannot change
    the last bit); equal values give exactly that value back (3 x 0.1 sums past 0.3)."""
    if len(values) == 0:
        raise TicketlabError("The mean of no values is undefined: give at least one value.")
    if all(v == values[0] for v in values):
        return float(values[0])
    return math.fsum(values) / len(values)


def sample_std(values: Sequence[float]) -> float:
    """Standard deviation with ddof = 1, and 0.0 for one value or for equal values (no
    rounding noise: a spread of 1e-17 would otherwise turn an exact tie into a p of 0)."""
    n = len(values)
    if n == 0:
        raise TicketlabError("The standard deviation of no values is undefined: give at least one value.")
    if n == 1 or all(v == values[0] for v in values):
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), evaluated by the
    modified Lentz method; converges fast for x < (a + 1) / (a + b + 2)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            delta = c * d
            h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta I_{x}({a}, {b}) did not converge in {_MAX_TERMS} terms")


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1.

    `y` may give 1 - x computed without cancellation (the t tails know it exactly as
    t^2 / (df + t^2)); without it, 1 - x is used."""
    if not (a > 0 and b > 0):
        raise TicketlabError(f"The incomplete beta function needs a > 0 and b > 0, got a={a}, b={b}.")
    if not 0.0 <= x <= 1.0:
        raise TicketlabError(f"The incomplete beta function needs 0 <= x <= 1, got x={x}.")
    y = 1.0 - x if y is None else y
    # Only an exact 0 ends early: y rounds to 1.0 long before a tiny x stops counting.
    if x == 0.0:
        return 0.0
    if y == 0.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _continued_fraction(b, a, y) / b


def _check_df(df: float) -> None:
    if not (isinstance(df, (int, float)) and df > 0 and math.isfinite(df)):
        raise TicketlabError(f"Student's t needs finite degrees of freedom > 0, got df={df!r}.")


def t_tail(t: float, df: float) -> float:
    """P(T > |t|) for Student's t with `df` degrees of freedom (one tail, never by
    subtraction, so small tails keep their relative accuracy)."""
    _check_df(df)
    if math.isnan(t):
        raise TicketlabError("Student's t was given t = nan: the statistic is undefined.")
    t2 = t * t
    if math.isinf(t2):
        return 0.0
    return 0.5 * betainc(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = t_tail(t, df)
    return 1.0 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """The quantile of Student's t: the t with P(T <= t) = q, for 0 < q < 1.

    Solved by bisection on the tail (monotone, bracketed by doubling), to the last bits
    of a double; the tail of the nearer side is matched so tiny q stay accurate."""
    _check_df(df)
    if not 0.0 < q < 1.0:
        raise TicketlabError(f"A quantile needs 0 < q < 1, got q={q!r}.")
    if q == 0.5:
        return 0.0
    target = min(q, 1.0 - q)
    lo, hi = 0.0, 1.0
    while t_tail(hi, df) > target:
        lo, hi = hi, hi * 2.0
    while hi - lo > 4.0 * math.ulp(hi):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_tail(mid, df) > target:
            lo = mid
        else:
            hi = mid
    t = 0.5 * (lo + hi)
    return t if q > 0.5 else -t


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The two-sided t-interval of the mean at `confidence`; one value gives (mean, mean),
    since one seed says nothing about the spread."""
    if not 0.0 < confidence < 1.0:
        raise TicketlabError(f"A confidence level must lie strictly between 0 and 1, got {confidence!r}.")
    m = mean(values)
    n = len(values)
    if n == 1:
        return (m, m)
    half = t_ppf(0.5 + confidence / 2.0, n - 1) * sample_std(values) / math.sqrt(n)
    return (m - half, m + half)


def paired_t_test(a: Mapping[int, float], b: Mapping[int, float]) -> PairedTest | None:
    """Two-sided paired t-test of `a` against `b`, each a mapping of seed -> value,
    over the seeds both have. None when fewer than 2 seeds are shared (no test).

    All differences zero: p = 1.0 (nothing tells them apart). All differences equal and
    non-zero: the spread is 0 and the difference exact, so p = 0.0."""
    shared = sorted(set(a) & set(b))
    n = len(shared)
    if n < 2:
        return None
    diffs = [a[seed] - b[seed] for seed in shared]
    d_mean = mean(diffs)
    d_std = sample_std(diffs)
    if d_std == 0.0:
        if d_mean == 0.0:
            return PairedTest(n, 0.0, 0.0, 1.0)
        return PairedTest(n, d_mean, math.copysign(math.inf, d_mean), 0.0)
    statistic = d_mean / (d_std / math.sqrt(n))
    return PairedTest(n, d_mean, statistic, min(1.0, 2.0 * t_tail(statistic, n - 1)))
