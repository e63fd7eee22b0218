"""The emerging-theme rule (voice.themes.emerging): weekly cycles are not alarms, a doubling of a busy
theme is flagged the same day, a new theme needs a real burst, and on steady simulated data the rule
stays under one false alarm per agency-month (bench/emerging_bench.py measures it at scale)."""

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
    verdict = judge(WEEK * 4, 50)
    assert verdict.emerging and verdict.expected == 20 and verdict.p_value < 1e-3
    # One day at 1.9x is in doubt; the second day at that pace settles it.
    assert not judge(WEEK * 4, 38).emerging
    assert judge(WEEK * 4 + [38], 41).emerging


def test_a_level_that_moved_last_week_is_the_new_normal() -> None:
    # Volume doubled a week ago and stayed: last week's level (not four weeks of history) is the baseline.
    history = WEEK * 3 + [2 * c for c in WEEK]
    assert baseline(history) > 30
    assert not judge(history, 42).emerging


def test_a_new_theme_needs_a_real_burst() -> None:
    assert not judge([], MIN_COUNT - 1).emerging
    assert not judge([0] * 20 + [1, 0, 1], 3).emerging
    assert judge([], 10).emerging
    assert not judge([], 0).emerging and judge([], 0).p_value == 1.0


def test_steady_overdispersed_volumes_raise_few_false_alarms() -> None:
    rng = np.random.default_rng(7)
    profile = np.array(WEEK) / np.mean(WEEK)
    alarms = 0
    themes, days = 12, 28 + 60
    for theme in range(themes):
        base = 2.0 * (1.4 ** theme)  # 2 to 80 a day
        lam = base * profile[np.arange(days) % 7] * rng.gamma(25, 1 / 25, days)
        counts = rng.poisson(lam)
        alarms += sum(judge(counts[:d], int(counts[d])).emerging for d in range(28, days))
    assert alarms <= 2  # one agency (12 themes) over two months
