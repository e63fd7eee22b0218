"""Words and names of themes: class-based TF-IDF keywords shown in the spelling people wrote."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nlp.terms import SurfaceForms
from nlp.themes.phrases import filler_in

__all__ = ["theme_keywords"]


def theme_keywords(
    labels: np.ndarray, k: int, uniq_raw: list[str], n_keywords: int, random_state: int
) -> list[list[str]]:
    """Class-based TF-IDF over stems, shown as each stem's most frequent surface form."""
    rng = np.random.default_rng(random_state)
    # Keyword statistics from at most 200 texts per theme keep labelling fast on 100k texts.
    chosen = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members) > 200:
            members = np.sort(rng.choice(members, 200, replace=False))
        chosen.append(members)
    forms = SurfaceForms()
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for c, members in enumerate(chosen):
        for j in members:
            for key in forms.add_text(uniq_raw[j]):
                rows.append(c)
                cols.append(vocab.setdefault(key, len(vocab)))
    if not vocab:
        return [[] for _ in range(k)]
    # The light stemmer keeps one-letter proclitics (ل ب ف ك و) that could be root letters; when the
    # stem without it also occurs in the corpus, it is the same word ("لتفعيل" -> "تفعيل").
    terms = list(vocab)
    fold = np.arange(len(terms))
    for i, key in enumerate(terms):
        if len(key) >= 4 and key[0] in "لبفكو" and key[1:] in vocab:
            fold[i] = vocab[key[1:]]
    cols = fold[np.asarray(cols, dtype=np.int64)].tolist()
    tf = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(k, len(vocab))).toarray()
    words_per_class = tf.sum(axis=1).mean()
    idf = np.log1p(words_per_class / np.maximum(tf.sum(axis=0), 1))
    score = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1) * idf
    out = []
    for c in range(k):
        min_count = 2 if len(chosen[c]) >= 4 else 1  # a word used once is noise in a big theme
        order = np.argsort(-score[c], kind="stable")
        words: list[str] = []
        for t in order:
            if tf[c, t] < min_count or score[c, t] <= 0 or len(words) >= n_keywords:
                break
            surface = forms.surface(terms[t])
            if surface not in words and not filler_in(surface):  # no "الله" among the keywords
                words.append(surface)
        out.append(words)
    return out

