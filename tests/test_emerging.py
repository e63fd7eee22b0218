"""The emerging-theme rule (voice.themes.emerging): weekly cycles are not alarms, a doubling of a busy
theme is flagged the same day, a new theme needs a real burst, and on generated data (fixed seeds) the
rule stays under one false alarm per agency-month while flagging injected doublings at stated rates
(bench/emerging_bench.py measures both at scale)."""

from __future__ import annotations

import numpy as np

from voice.themes.emerging import MIN_COUNT, baseline, judge

# Sunday..Saturday: quiet Friday and Saturday, as in the agencies' feedback.
WEEK = [20, 21, 22, 20, 19, 7, 10]


def test_a_weekly_cycle_is_not_an_alarm() -> None:
    history = WEEK * 4
    assert not judge(history, 22).emerging  # a usual Sunday after a quiet weekend
    assert abs(baseline(history) - 20) < 0.01
    friday = (WEEK * 5)[:-2]  # history up to Thursday: the next day is a Friday
    assert abs(baseline(friday) - 7) < 0.01  # Fridays are quiet, and last week's level says the same
    assert not judge(friday, 9).emerging


def test_a_busy_theme_that_doubles_is_flagged_within_a_day() -> None:
    verdict = judge(WEEK * 8, 50)
    assert verdict.emerging and verdict.expected == 20 and verdict.p_value < 1e-3
    # One day at 1.9x is in doubt; the second day at that pace settles it, judged against what was
    # expected before the first (yesterday's jump does not raise its own bar).
    assert not judge(WEEK * 8, 38).emerging
    assert judge(WEEK * 8 + [38], 41).emerging
    # With only four weeks of history the weekly profile is less certain, and so is the verdict.
    assert not judge(WEEK * 4 + [38], 41).emerging


def test_a_level_that_moved_is_the_new_normal_within_two_weeks() -> None:
    # Volume doubled a week ago and stayed: half of the two-week level has moved, and the day is no alarm.
    history = WEEK * 7 + [2 * c for c in WEEK]
    assert abs(baseline(history) - 30) < 0.01
    assert not judge(history, 42).emerging
    # Two weeks on, the doubled level is the baseline (a Sunday: 2 x 20).
    assert abs(baseline(WEEK * 6 + [2 * c for c in WEEK * 2]) - 40) < 0.01


def test_a_new_theme_needs_a_real_burst() -> None:
    assert not judge([], MIN_COUNT - 1).emerging
    assert not judge([0] * 20 + [1, 0, 1], 3).emerging
    assert judge([], 10).emerging
    assert not judge([], 0).emerging and judge([], 0).p_value == 1.0


def test_steady_overdispersed_volumes_raise_few_false_alarms() -> None:
    rng = np.random.default_rng(7)
    profile = np.array(WEEK) / np.mean(WEEK)
    alarms = 0
    themes, days = 12, 56 + 60
    for theme in range(themes):
        base = 2.0 * (1.4 ** theme)  # 2 to 80 a day
        lam = base * profile[np.arange(days) % 7] * rng.gamma(25, 1 / 25, days)
        counts = rng.poisson(lam)
        alarms += sum(judge(counts[:d], int(counts[d])).emerging for d in range(56, days))
    assert alarms <= 2  # one agency (12 themes) over two months


# The benchmark's model of an agency's daily volumes (bench/emerging_bench.py): a weekly cycle with a
# quiet Friday and Saturday, a slow ±30 % drift, and a day-to-day rate variation of cv 0.2 on top of
# Poisson noise. Seeds are fixed, so the rates below are exact for this code, not a sample of runs.
PROFILE = np.array([1.0, 1.05, 1.1, 1.0, 0.95, 0.35, 0.5])
HISTORY, JUDGED = 56, 90


def _rates(rng: np.random.Generator, base: float, days: int) -> np.ndarray:
    t = np.arange(days)
    drift = 1 + 0.3 * np.sin(2 * np.pi * (t / 208 + rng.random()))
    return base * PROFILE[t % 7] * drift * rng.gamma(25, 1 / 25, days)


def test_steady_agencies_stay_under_one_false_alarm_a_month() -> None:
    # 9 alarms over 6 agencies x 3 months with this code (0.5 per agency-month).
    rng = np.random.default_rng(17)
    agencies, alarms = 6, 0
    for _ in range(agencies * 12):
        base = float(np.exp(rng.uniform(np.log(0.5), np.log(60))))
        counts = rng.poisson(_rates(rng, base, HISTORY + JUDGED))
        alarms += sum(judge(counts[:d], int(counts[d])).emerging for d in range(HISTORY, HISTORY + JUDGED))
    assert alarms / (agencies * JUDGED / 30) <= 1.0


def _doublings(rng: np.random.Generator, low: float, high: float, n: int) -> tuple[float, float]:
    """Share of injected doublings flagged on their first day, and by the next day."""
    first = by_next = 0
    for _ in range(n):
        base = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        lam = _rates(rng, base, HISTORY + 2)
        counts = np.concatenate([rng.poisson(lam[:HISTORY]), rng.poisson(2 * lam[HISTORY:])])
        today = judge(counts[:HISTORY], int(counts[HISTORY])).emerging
        first += today
        by_next += today or judge(counts[:HISTORY + 1], int(counts[HISTORY + 1])).emerging
    return first / n, by_next / n


def test_injected_doublings_are_flagged_as_often_as_the_noise_allows() -> None:
    rng = np.random.default_rng(17)
    # This code: busy 48 % / 73 %, mid 22 % / 42 %, quiet 1 % / 2 %. The previous rule (same-weekday mean
    # of four weeks, the larger of two baselines) got 34 % / 59 % and 16 % / 33 % on the same themes.
    # Even knowing each day's true rate, a one-day test at this false-alarm budget flags only about half
    # of busy doublings on day one (docs/benchmarks.md): a doubled day is ~2.5 sd of the cv-0.2 noise.
    busy = _doublings(rng, 15, 60, 300)
    assert busy[0] >= 0.45 and busy[1] >= 0.7
    mid = _doublings(rng, 5, 15, 300)
    assert mid[0] >= 0.2 and mid[1] >= 0.4
    # Below 2 a day, a doubling is Poisson noise at one false alarm a month: the stated limit.
    quiet = _doublings(rng, 0.5, 2, 300)
    assert quiet[1] <= 0.05
