"""Emerging themes: a theme whose volume today is well above its own recent baseline.

The rule (one statement, tested in tests/test_emerging.py, tuned in bench/emerging_bench.py):

    For a theme and a day d (Riyadh calendar), let n be the texts of the theme that arrived on d, and
    λ = max(FLOOR, mean of its counts on the same weekday of the previous WEEKS weeks, and
            median of its counts on the previous 7 days × that weekday mean / median of the 4 weeks).
    The theme is *emerging* on d when n ≥ MIN_COUNT and P(N ≥ n) < ALPHA/2, where N is negative
    binomial with mean λ and variance V = (λ + DISPERSION·λ²)·(1 + 1/WEEKS); or when the same holds
    for the two days d-1 and d together (counts, means and variances added), which catches a doubling
    that one noisy day leaves in doubt, within a day of its start.

Comparing with the same weekday follows weekly cycles (weekends are quiet); the 7-day term reacts to a
level that moved in the last week; taking the larger of the two makes a single quiet week no excuse for
an alarm. The variance is Poisson's plus day-to-day variation of the rate itself (DISPERSION = cv² of
the daily rate: 0.2² on the demo agencies' feedback), inflated for the error of a baseline estimated
from WEEKS days. FLOOR makes a new theme with no history need a real burst (MIN_COUNT texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from scipy.stats import nbinom, poisson

WEEKS = 4
FLOOR = 1.0
MIN_COUNT = 5
ALPHA = 2e-3
DISPERSION = 0.04


@dataclass(frozen=True)
class Verdict:
    count: int
    expected: float  # the baseline λ
    p_value: float
    emerging: bool


def baseline(history: Sequence[int]) -> float:
    """λ for the day after ``history`` (daily counts, oldest first, at least ``7 * WEEKS`` days; fewer
    are read as zeros before the theme existed)."""
    days = 7 * WEEKS
    past = [0] * max(0, days - len(history)) + [int(c) for c in history[-days:]]
    same_weekday = past[-7::-7][:WEEKS]  # d-7, d-14, d-21, d-28
    seasonal = sum(same_weekday) / WEEKS
    # Last week's typical day (a median: yesterday's burst does not raise it) times the theme's weekday
    # profile (this weekday against a typical day of the four weeks).
    typical = median(past)
    recent = median(past[-7:]) * (seasonal / typical) if typical > 0 else 0.0
    return max(FLOOR, seasonal, recent)


def judge(history: Sequence[int], count: int) -> Verdict:
    """Is ``count`` (today) emerging after ``history`` (daily counts up to yesterday, oldest first)?"""
    expected = baseline(history)
    p_value = tail(count, expected, _variance(expected))
    if len(history):
        before = baseline(history[:-1])
        two_days = tail(count + int(history[-1]), expected + before, _variance(expected) + _variance(before))
        p_value = min(p_value, two_days)
    return Verdict(count, round(expected, 2), p_value, count >= MIN_COUNT and p_value < ALPHA / 2)


def _variance(expected: float) -> float:
    return (expected + DISPERSION * expected**2) * (1 + 1 / WEEKS)


def tail(count: int, mean: float, variance: float) -> float:
    """P(N ≥ count) for a negative binomial N with this mean and variance (Poisson when not above it)."""
    if count <= 0:
        return 1.0
    if variance <= mean:
        return float(poisson.sf(count - 1, mean))
    size = mean**2 / (variance - mean)
    return float(nbinom.sf(count - 1, size, mean / variance))
