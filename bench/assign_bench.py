"""Latency of assigning one new text to its theme (``ThemeModel.assign``) on a small model.

Not a test: a unit test used to assert this (p99 under 50 ms for a model fit on the 70-text synthetic
corpus of tests/nlp); wall-clock limits do not belong in tests, so the measurement lives here and the
test keeps only what assign must answer. bench/nlp_bench.py measures the same call on a 10k-text model.

Usage:  PYTHONPATH=src:. .venv/bin/python bench/assign_bench.py [--probes 2000] [--budget-ms 50]
Exits 1 when the p99 is over the budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from tests.nlp.corpus import feedback_corpus

from nlp import ThemeModel


def latencies_ms(model: ThemeModel, texts: list[str], probes: int) -> np.ndarray:
    model.assign("warm up")  # the first call builds lazy state
    times = []
    for i in range(probes):
        text = texts[i % len(texts)]
        start = time.perf_counter()
        model.assign(text)
        times.append((time.perf_counter() - start) * 1000)
    return np.asarray(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--budget-ms", type=float, default=50.0)
    args = parser.parse_args()
    texts, _ = feedback_corpus(per_topic=14, seed=1)  # the unit test's corpus and model
    model = ThemeModel(n_themes=5, random_state=0).fit(texts)
    model = ThemeModel.from_bytes(model.to_bytes())  # as the web app holds it: loaded from the database
    times = latencies_ms(model, texts, args.probes)
    p50, p99, worst = np.percentile(times, 50), np.percentile(times, 99), times.max()
    print(f"nproc {os.cpu_count()}; model fit on {len(texts)} texts, {len(model.themes_)} themes; "
          f"{args.probes} single-text assignments")
    print(f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms (budget: p99 under {args.budget_ms:g} ms)")
    return 0 if p99 < args.budget_ms else 1


if __name__ == "__main__":
    sys.exit(main())
