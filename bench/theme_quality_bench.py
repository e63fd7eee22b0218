"""Theme quality on the labelled development set: NMI at the true and at the automatic number of themes,
top-level themes, names (phrases found in the theme's texts, filler words, content words shared with the
gold intent name) and time per stage.

Not a test. Usage:
  PYTHONPATH=src .venv/bin/python bench/theme_quality_bench.py [--data PATH] [--methods tfidf auto]
      [--cache DIR] [--limit N]
--cache keeps the sentence embeddings of each text list on disk (keyed by a hash of the texts), so that
re-runs while tuning do not re-encode; the encode time printed is then the cached run's (near zero) and
the first run's is the one to report.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

# ../shared/data from the main checkout; from a worktree under /work/wt/<name>, one level further up.
DATA = next(
    (p / "shared" / "data" / "arbanking77" / "msa_test.csv" for p in Path(__file__).resolve().parents
     if (p / "shared" / "data" / "arbanking77").is_dir()),
    Path("shared/data/arbanking77/msa_test.csv"),
)


def read(path: Path, limit: int | None) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if limit:
        rows = rows[:limit]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def cache_embeddings(directory: Path) -> None:
    """Wrap the installed encoders' encode with an on-disk cache (the encoders are process singletons)."""
    from nlp.embeddings import get_encoder

    directory.mkdir(parents=True, exist_ok=True)
    for name in ("e5", "use"):
        encoder = get_encoder(name)
        if encoder is None:
            continue
        original = encoder.encode

        def encode(texts, progress=None, _original=original, _name=name):
            key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:20]
            path = directory / f"{_name}_{key}.npy"
            if path.exists():
                return np.load(path)
            out = _original(texts, progress)
            np.save(path, out)
            return out

        encoder.encode = encode


def name_report(model, texts: list[str], truth: list[str]) -> dict:
    from nlp.normalize import normalize
    from nlp.terms import display_tokens
    from nlp.themes.phrases import content_keys, filler_in

    def words(text: str) -> str:  # a name is 'found' when its words occur in this order in a text
        return " " + " ".join(normalize(tok) for tok in display_tokens(text)) + " "


    by_theme: dict[int, list[int]] = {}
    for i, label in enumerate(model.labels_):
        if label is not None:
            by_theme.setdefault(label, []).append(i)
    shared = found = filler = 0
    examples = []
    for theme in model.themes_:
        members = by_theme.get(theme.id, [])
        if not members:
            continue
        gold = Counter(truth[i] for i in members).most_common(1)[0][0]
        name_keys = set(content_keys(theme.label))
        if name_keys & set(content_keys(gold)):
            shared += 1
        if any(words(theme.label) in words(texts[i]) for i in members):
            found += 1
        if filler_in(theme.label):
            filler += 1
        examples.append((theme.size, theme.label, gold))
    n = max(len(examples), 1)
    examples.sort(key=lambda e: -e[0])
    return {
        "shares_content_word": shared / n,
        "found_in_texts": found / n,
        "with_filler": filler,
        "examples": examples[:8],
    }


def run(texts, truth, method: str, k: int | None) -> dict:
    from sklearn.metrics import normalized_mutual_info_score

    from nlp import ThemeModel

    t0 = time.perf_counter()
    model = ThemeModel(n_themes=k, method=method, random_state=0).fit(texts)
    seconds = time.perf_counter() - t0
    nmi = normalized_mutual_info_score(truth, ["∅" if v is None else v for v in model.labels_])
    groups = getattr(model, "groups_", [])
    parent = {t.id: getattr(t, "parent", None) for t in model.themes_}
    top_nmi = (
        normalized_mutual_info_score(truth, [str(parent.get(v)) for v in model.labels_]) if groups else float("nan")
    )
    return {
        "model": model,
        "nmi": nmi,
        "top_nmi": top_nmi,
        "themes": len(model.themes_),
        "groups": len(groups),
        "seconds": seconds,
        "timings": model.timings_,
        "method": model.method_,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--methods", nargs="+", default=["tfidf", "auto"])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if args.cache:
        cache_embeddings(args.cache)
    texts, truth = read(args.data, args.limit)
    true_k = len(set(truth))
    print(f"{args.data.name}: {len(texts)} texts, {true_k} labels")
    print("| method | k | themes | top-level | NMI | top-level NMI | names in texts | names share a word "
          "| names with filler | seconds (encode / cluster / label) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for method in args.methods:
        for k in (true_k, None):
            res = run(texts, truth, method, k)
            names = name_report(res["model"], texts, truth)
            tm = res["timings"]
            print(
                f"| {method} ({res['method']}) | {'auto' if k is None else k} | {res['themes']} | {res['groups']} "
                f"| {res['nmi']:.3f} | {res['top_nmi']:.3f} | {names['found_in_texts']:.0%} "
                f"| {names['shares_content_word']:.0%} | {names['with_filler']} "
                f"| {res['seconds']:.1f} ({tm.get('vectorize', 0):.1f} / {tm.get('cluster', 0):.1f} / "
                f"{tm.get('label', 0):.1f}) |",
                flush=True,
            )
            for size, label, gold in names["examples"]:
                print(f"    {size:5d}  {label}  <- {gold}", file=sys.stderr)


if __name__ == "__main__":
    main()
