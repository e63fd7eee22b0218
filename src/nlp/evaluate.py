"""Evaluation against labelled sets: NMI, ARI and V-measure of a ThemeModel and of a plain baseline."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from nlp.themes import ThemeModel

__all__ = ["baseline_labels", "evaluate", "scores"]


def scores(truth: Sequence, predicted: Sequence) -> dict[str, float]:
    # Unassigned texts (None) form one group of their own, as a reader would see them.
    predicted = ["∅" if p is None else str(p) for p in predicted]
    return {
        "nmi": round(float(normalized_mutual_info_score(truth, predicted)), 4),
        "ari": round(float(adjusted_rand_score(truth, predicted)), 4),
        "v_measure": round(float(v_measure_score(truth, predicted)), 4),
    }


def baseline_labels(texts: Sequence[str], n_clusters: int, random_state: int = 0) -> list[int]:
    """The reference everyone can reproduce: character 2-5-gram TF-IDF on raw text + k-means (n_init=5)."""
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2).fit_transform(
        texts
    )
    return KMeans(n_clusters, n_init=5, random_state=random_state).fit_predict(x).tolist()


def evaluate(
    texts: Sequence[str],
    truth: Sequence,
    n_themes: int | None = None,
    method: str = "auto",
    random_state: int = 0,
    encoder: str = "e5",
) -> dict:
    """Scores of ThemeModel and of the baseline with the same number of themes (the model's, when auto)."""
    model = ThemeModel(n_themes=n_themes, method=method, random_state=random_state, encoder=encoder).fit(texts)
    k = len(model.themes_)
    return {
        "method": model.method_,
        "n_themes": k,
        "n_labels": len(set(truth)),
        "model": scores(truth, model.labels_),
        "baseline": scores(truth, baseline_labels(texts, max(k, 1), random_state)),
        "timings": model.timings_,
    }
