"""How the emerging-theme rule (voice.themes.emerging) behaves on realistic daily volumes.

Synthetic but shaped like the demo agencies' feedback: per agency, themes with base rates from half a
text a day to 60 (log-uniform), a weekly cycle (Friday and Saturday quiet), a slow drift of the level
(±30 % over the period), and day-to-day variation beyond Poisson (a gamma multiplier, cv 0.2). On
steady data it counts false alarms per agency-month; then it doubles a theme's rate from a random day
on and checks whether the rule flags the theme on that first day ("within a day"), by base rate.
--oracle replaces the rule's baseline by the true expected rate: the ceiling for a one-day test.

Usage:  PYTHONPATH=src .venv/bin/python bench/emerging_bench.py [--agencies 200] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from voice.themes import emerging

HISTORY = 56  # burn-in (eight weeks, whatever history the rule reads), then six months judged
DAYS = HISTORY + 180
THEMES = 12
WEEKDAY = np.array([1.0, 1.05, 1.1, 1.0, 0.95, 0.35, 0.5])  # Sun..Sat; Friday and Saturday quiet
CV = 0.2


def rates(rng: np.random.Generator, base: float) -> tuple[np.ndarray, np.ndarray]:
    """(each day's rate, its expectation before the day-to-day variation: what an oracle would know)."""
    days = np.arange(DAYS)
    drift = 1 + 0.3 * np.sin(2 * np.pi * (days / DAYS + rng.random()))
    noise = rng.gamma(1 / CV**2, CV**2, DAYS)
    expected = base * WEEKDAY[days % 7] * drift
    return expected * noise, expected


def oracle(truth: np.ndarray):
    """The one-day test against each day's true expected rate (weekly cycle and drift known exactly):
    the best any baseline estimate could do with the same variance model and ALPHA."""
    def judge_known(history, count: int) -> emerging.Verdict:
        lam = float(truth[len(history)])
        p = emerging.tail(count, lam, lam + emerging.DISPERSION * lam**2)
        return emerging.Verdict(count, lam, p, count >= emerging.MIN_COUNT and p < emerging.ALPHA)
    return judge_known


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=emerging.ALPHA, help="try another ALPHA")
    parser.add_argument("--alpha-two-days", type=float, default=getattr(emerging, "ALPHA_TWO_DAYS", None),
                        help="try another ALPHA_TWO_DAYS")
    parser.add_argument("--dispersion", type=float, default=emerging.DISPERSION, help="try another DISPERSION")
    parser.add_argument("--oracle", action="store_true", help="judge against the true expected rate instead")
    args = parser.parse_args()
    emerging.ALPHA, emerging.DISPERSION = args.alpha, args.dispersion
    if args.alpha_two_days is not None:
        emerging.ALPHA_TWO_DAYS = args.alpha_two_days
    print(f"ALPHA={emerging.ALPHA} ALPHA_TWO_DAYS={getattr(emerging, 'ALPHA_TWO_DAYS', '-')} "
          f"DISPERSION={emerging.DISPERSION} MIN_COUNT={emerging.MIN_COUNT} FLOOR={emerging.FLOOR}")
    rng = np.random.default_rng(args.seed)
    start = HISTORY
    alarms = judged_days = 0
    bands = {"< 2": [0, 0, 0], "2-5": [0, 0, 0], "5-15": [0, 0, 0], "15-60": [0, 0, 0]}
    for _ in range(args.agencies):
        for _ in range(THEMES):
            base = float(np.exp(rng.uniform(np.log(0.5), np.log(60))))
            lam, truth = rates(rng, base)
            judge = oracle(truth) if args.oracle else emerging.judge
            counts = rng.poisson(lam)
            for d in range(start, DAYS):
                alarms += judge(counts[:d], int(counts[d])).emerging
            judged_days += DAYS - start
            # The same theme, its rate doubled from a random day on: flagged that day, or the next?
            day = int(rng.integers(start, DAYS - 1))
            spiked = counts.copy()
            spiked[day:] = rng.poisson(2 * lam[day:])
            band = "< 2" if base < 2 else "2-5" if base < 5 else "5-15" if base < 15 else "15-60"
            first = judge(spiked[:day], int(spiked[day])).emerging
            bands[band][0] += first
            bands[band][1] += first or judge(spiked[:day + 1], int(spiked[day + 1])).emerging
            bands[band][2] += 1
    months = args.agencies * (DAYS - start) / 30
    print(f"steady data: {alarms} false alarms over {args.agencies} agencies x {(DAYS - start) / 30:.0f} months "
          f"({THEMES} themes each) = {alarms / months:.2f} per agency-month")
    for band, (same_day, next_day, n) in bands.items():
        print(f"base rate {band} a day: a doubling flagged on its first day {same_day / max(n, 1):.0%}, "
              f"by the next day {next_day / max(n, 1):.0%} (of {n})")


if __name__ == "__main__":
    main()
