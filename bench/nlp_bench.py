"""Benchmark of the nlp library: `nlp cluster` throughput and peak memory, single-text assignment latency.

Not a test. Usage:  .venv/bin/python bench/nlp_bench.py [--sizes 10000 100000 300000] [--methods tfidf auto]
    [--encoder e5-static] [--latency-method]
Grows data/arbanking77/msa_pal_train.csv to each size by sampling with light perturbation, runs
`nlp cluster` in a subprocess per (size, method) and reads the child's peak RSS from getrusage. Prints the
run's stage times (from OUT.themes.json) and, for a method with a sentence encoder, that encoder's own
throughput on 1,000 distinct texts of the set in a fresh process, so the encoder's share is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# ../shared/data from the main checkout; from a worktree under /work/wt/<name>, one level further up.
SOURCE = next(
    (p / "shared" / "data" / "arbanking77" / "msa_pal_train.csv" for p in Path(__file__).resolve().parents
     if (p / "shared" / "data" / "arbanking77").is_dir()),
    Path("shared/data/arbanking77/msa_pal_train.csv"),
)
WORK = Path(tempfile.gettempdir()) / "nlp_bench"
PYTHON = sys.executable
FILLERS = [
    "لو سمحت",
    "السلام عليكم",
    "ضروري",
    "بسرعة",
    "يا جماعة",
    "الله يعافيكم",
    "please",
    "اليوم",
    "من امس",
    "🙏",
]


def perturb(text: str, r: random.Random) -> str:
    """Light, realistic edits: a filler word, a dropped word, punctuation, elongation, a number."""
    words = text.split()
    op = r.randrange(5)
    if op == 0:
        words.insert(r.randrange(len(words) + 1), r.choice(FILLERS))
    elif op == 1 and len(words) > 3:
        del words[r.randrange(len(words))]
    elif op == 2:
        words.append(r.choice(["؟", "!", "...", "؟؟"]))
    elif op == 3 and words:
        i = r.randrange(len(words))
        words[i] = words[i] + words[i][-1] * 2
    words.append(str(r.randint(1, 999)) if r.random() < 0.3 else r.choice(FILLERS))
    return " ".join(words)


def make_dataset(n: int) -> Path:
    path = WORK / f"texts_{n}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    with SOURCE.open(encoding="utf-8") as handle:
        base = [row["text"] for row in csv.DictReader(handle)]
    r = random.Random(n)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(n):
            text = base[i] if i < len(base) else perturb(r.choice(base), r)
            writer.writerow([i, text])
    return path


def run_cluster(path: Path, method: str, encoder: str | None = None) -> dict:
    out = WORK / f"out_{path.stem}_{method}{'_' + encoder if encoder else ''}.csv"
    cmd = [
        PYTHON,
        "-m",
        "nlp.cli",
        "cluster",
        "--input",
        str(path),
        "--text-column",
        "text",
        "--output",
        str(out),
        "--method",
        method,
        *(["--encoder", encoder] if encoder else []),
    ]
    # A fresh wrapper process per run so RUSAGE_CHILDREN holds exactly this run's peak RSS.
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter();"
        "rc = subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL).returncode;"
        "print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    rc, seconds, rss_kb = subprocess.run(
        [PYTHON, "-c", wrapper, *cmd], capture_output=True, text=True, check=True
    ).stdout.split()
    summary = json.loads(out.with_name(out.stem + ".themes.json").read_text(encoding="utf-8"))
    return {
        "rc": int(rc),
        "seconds": float(seconds),
        "peak_mb": int(rss_kb) / 1024,
        "themes": summary["n_themes"],
        "method": summary["method"],
        "encoder": summary.get("encoder"),
        "timings": summary.get("timings", {}),
        "command": " ".join(["nlp", *cmd[3:]]),
    }


def encoder_throughput(path: Path, encoder: str, n: int = 1000) -> float:
    """Texts per second of the named encoder on n distinct texts of the bench set, in a fresh process
    (as `nlp cluster` runs it: one process, all cores), after one warm-up batch."""
    script = (
        "import csv, sys, time; from nlp.embeddings import get_encoder;"
        "rows = [r['text'] for r in csv.DictReader(open(sys.argv[1], encoding='utf-8'))];"
        "texts = list(dict.fromkeys(rows))[: int(sys.argv[3])]; enc = get_encoder(sys.argv[2]);"
        "enc.encode(texts[:32]); t = time.perf_counter(); enc.encode(texts);"
        "print(len(texts) / (time.perf_counter() - t))"
    )
    out = subprocess.run([PYTHON, "-c", script, str(path), encoder, str(n)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.split()[-1])


def assignment_latency(path: Path, method: str = "tfidf", n: int = 2000) -> dict:
    from nlp import ThemeModel

    with path.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    model = ThemeModel(method=method, random_state=0).fit(texts)
    model = ThemeModel.from_bytes(model.to_bytes())  # as the web app would: loaded from the database
    r = random.Random(1)
    probes = [perturb(r.choice(texts), r) for _ in range(n)]
    model.assign(probes[0])
    times = []
    for text in probes:
        t0 = time.perf_counter()
        model.assign(text)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": float(np.percentile(times, 50)),
        "p99_ms": float(np.percentile(times, 99)),
        "blob_mb": len(model.to_bytes()) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--methods", nargs="+", default=["tfidf"])
    parser.add_argument("--encoder", default=None, help="passed to nlp cluster (hybrid/semantic methods)")
    parser.add_argument("--latency-method", nargs="*", default=["tfidf"])
    args = parser.parse_args()
    print(f"nproc: {os.cpu_count()}")
    print("| texts | method (resolved) | themes | wall time (s) | texts/s | peak RSS (MB) "
          "| stages (s): normalize / vectorize / cluster / label | encoder alone (texts/s) |")
    print("|---:|---|---:|---:|---:|---:|---|---|")
    throughput: dict[str, float] = {}
    commands = []
    for size in args.sizes:
        path = make_dataset(size)
        for method in args.methods:
            res = run_cluster(path, method, args.encoder)
            commands.append(res["command"])
            encoder = res["encoder"]
            if encoder and encoder not in throughput:
                throughput[encoder] = encoder_throughput(path, encoder)
            tm = res["timings"]
            stages = " / ".join(f"{tm.get(s, 0):.1f}" for s in ("normalize", "vectorize", "cluster", "label"))
            print(
                f"| {size:,} | {method} ({res['method']}{', ' + encoder if encoder else ''}) | {res['themes']} "
                f"| {res['seconds']:.1f} | {size / res['seconds']:,.0f} | {res['peak_mb']:,.0f} | {stages} "
                f"| {f'{throughput[encoder]:,.0f}' if encoder else '-'} |",
                flush=True,
            )
    for method in args.latency_method:
        lat = assignment_latency(make_dataset(10_000), method)
        print(
            f"\nassign one text ({method} model fit on 10k, loaded from bytes): p50 {lat['p50_ms']:.2f} ms, "
            f"p99 {lat['p99_ms']:.2f} ms; model blob {lat['blob_mb']:.1f} MB",
            flush=True,
        )
    print("\ncommands:")
    for c in commands:
        print(f"  {c}")


if __name__ == "__main__":
    main()
