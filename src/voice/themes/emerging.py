"""Emerging themes: a theme whose volume today is well above its own recent baseline.

The rule (one statement, tested in tests/test_emerging.py, tuned in bench/emerging_bench.py):

    For a theme and a day d (Riyadh calendar), let n be the texts of the theme that arrived on d and
    h the theme's daily counts of the previous 7·WEEKS days (zeros before the theme existed).

    Weekly profile: p_k = mean of h on weekday k / mean of h, over the whole weeks since the theme's
    first text (at most WEEKS); flat (p_k = 1) while the theme is younger than a week.
    Level: L = (texts of the last LEVEL_DAYS days) / (sum of p over those days), a deseasonalised
    daily rate.
    Baseline: λ = max(FLOOR, L · p_weekday(d)).
    Variance: V = (λ + DISPERSION·λ²) · (1 + 1/w + 1/LEVEL_DAYS): Poisson's plus day-to-day
    variation of the rate itself (DISPERSION = cv², 0.2² on the demo agencies' feedback), inflated for
    the error of a profile estimated from w weeks and a level estimated from LEVEL_DAYS days.
    The theme is *emerging* on d when n ≥ MIN_COUNT and P(N ≥ n) < ALPHA, N negative binomial with
    mean λ and variance V; or when P(N' ≥ n + n_{d-1}) < ALPHA_TWO_DAYS for the two days d-1 and d
    together, both judged from the history before d-1 (means and variances added), which confirms a
    doubling on its second day.

Why this shape (bench/emerging_bench.py, docs/benchmarks.md): the previous rule compared d with the mean
of the same weekday over four weeks (four noisy days, so ±13 % error at 25 a day) and took the larger of
that and a second estimate, which biased λ ~7 % upwards; both cost busy themes much of their power. A
profile over eight weeks and a level over two weeks come close to knowing each day's true expected rate
(41 % of busy doublings flagged on day one in the benchmark, against 48 % for that oracle). The level lags a slow drift by
about a week's worth of it and absorbs a level that moved within LEVEL_DAYS: a volume that doubles and
stays there is flagged in its first days, then becomes the new normal.

Limits, stated: with 20 % day-to-day variation a doubled day is only about 2.5 standard deviations of
log-volume above normal even for a busy theme, and ALPHA is what one false alarm per agency-month
(12 themes x 30 days) allows per theme-day, so even a rule that knew the true rate flags only about
half of busy themes' doublings on their first day; the second day at double pace settles most of them.
Below about 2 a day Poisson noise alone makes a doubling indistinguishable from a steady day at this
budget: there the rule sees only real bursts (MIN_COUNT texts, several times the baseline).
FLOOR makes a new theme with no history need a real burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import nbinom, poisson

WEEKS = 8
LEVEL_DAYS = 14
FLOOR = 1.0
MIN_COUNT = 5
ALPHA = 2e-3
ALPHA_TWO_DAYS = 5e-4
DISPERSION = 0.04


@dataclass(frozen=True)
class Verdict:
    count: int
    expected: float  # the baseline λ
    p_value: float
    emerging: bool


def _expected(history: Sequence[int], ahead: int = 1) -> tuple[float, float]:
    """(λ, variance inflation) for the ``ahead``-th day after ``history`` (1: the next day)."""
    days = 7 * WEEKS
    past = [0] * max(0, days - len(history)) + [int(c) for c in history[-days:]]
    # Position i of ``past`` falls on the same weekday as the judged day when (days - i) % 7 == 0.
    active = next((i for i, c in enumerate(past) if c), days)
    weeks = (days - active) // 7
    window = past[days - 7 * weeks:]
    if weeks and sum(window):
        mean = sum(window) / len(window)
        profile = [sum(window[k::7]) / weeks / mean for k in range(7)]  # k = 0: the judged day's weekday
    else:
        weeks, profile = 0, [1.0] * 7
    recent = past[-LEVEL_DAYS:]
    weights = sum(profile[(days - LEVEL_DAYS + i) % 7] for i in range(LEVEL_DAYS))
    level = sum(recent) / weights if weights > 0 else 0.0
    inflation = 1 + (1 / weeks if weeks else 0.0) + 1 / LEVEL_DAYS
    return max(FLOOR, level * profile[(ahead - 1) % 7]), inflation


def baseline(history: Sequence[int]) -> float:
    """λ for the day after ``history`` (daily counts, oldest first, up to ``7 * WEEKS`` days are read;
    fewer are read as zeros before the theme existed)."""
    return _expected(history)[0]


def judge(history: Sequence[int], count: int) -> Verdict:
    """Is ``count`` (today) emerging after ``history`` (daily counts up to yesterday, oldest first)?"""
    expected, inflation = _expected(history)
    variance = _variance(expected, inflation)
    p_value = tail(count, expected, variance)
    emerging = p_value < ALPHA
    if len(history):
        # Both days against what was expected before the first of them: a jump yesterday must not
        # raise its own baseline.
        (first, inflation), (second, _) = _expected(history[:-1]), _expected(history[:-1], ahead=2)
        two_days = tail(count + int(history[-1]), first + second,
                        _variance(first, inflation) + _variance(second, inflation))
        # Reported on the one-day scale so that verdicts rank together in the digest.
        emerging = emerging or two_days < ALPHA_TWO_DAYS
        p_value = min(p_value, two_days * ALPHA / ALPHA_TWO_DAYS)
    return Verdict(count, round(expected, 2), min(p_value, 1.0), count >= MIN_COUNT and emerging)


def _variance(expected: float, inflation: float) -> float:
    return (expected + DISPERSION * expected**2) * inflation


def tail(count: int, mean: float, variance: float) -> float:
    """P(N ≥ count) for a negative binomial N with this mean and variance (Poisson when not above it)."""
    if count <= 0:
        return 1.0
    if variance <= mean:
        return float(poisson.sf(count - 1, mean))
    size = mean**2 / (variance - mean)
    return float(nbinom.sf(count - 1, size, mean / variance))
