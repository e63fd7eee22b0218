"""Representations: the fast few-text path equals sklearn's char_wb counting; methods degrade gracefully."""

import numpy as np

from nlp.normalize import normalize
from nlp.vectorize import CharTfidf, TextVectorizer

from .corpus import feedback_corpus


def test_fast_counting_matches_sklearn():
    texts, _ = feedback_corpus(per_topic=6, seed=4)
    normalized = [normalize(t) for t in texts] + ["ا", "في", "x ab", ""]
    tfidf = CharTfidf.fit(normalized)
    for text in normalized:
        fast = tfidf._count_few([text]).toarray()
        slow = tfidf._counter.transform([text]).toarray()
        assert np.array_equal(fast, slow), text


def test_hybrid_and_semantic_vectors_are_unit_length():
    texts, _ = feedback_corpus(per_topic=3, seed=4)
    normalized = [normalize(t) for t in texts]
    for method in ("tfidf", "semantic", "hybrid"):
        vec = TextVectorizer(method, n_components=8)
        x = vec.fit_transform(normalized, texts)
        assert vec.method == method  # the embeddings extra is installed in the test env
        assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-4)
        again = TextVectorizer.from_state(*vec.state()).transform(normalized[:3], texts[:3])
        assert np.allclose(again, x[:3], atol=2e-2)
