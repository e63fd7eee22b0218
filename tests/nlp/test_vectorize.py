"""Representations: per-word n-gram counting equals sklearn's char_wb TF-IDF; methods degrade gracefully."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.normalize import normalize
from nlp.vectorize import NGRAM_RANGE, CharTfidf, TextVectorizer

from .corpus import feedback_corpus


@pytest.mark.parametrize(("per_topic", "max_features"), [(2, None), (12, None), (12, 300)])
def test_char_tfidf_equals_sklearn(per_topic, max_features):
    # Below 50 texts every n-gram counts; from 50 on, n-grams seen in one text only are dropped.
    texts, _ = feedback_corpus(per_topic=per_topic, seed=4)
    normalized = [normalize(t) for t in texts] + ["ا", "في", "x ab", "", "ا ا ا"]
    ours = CharTfidf.fit(normalized, max_features)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True,
                                min_df=2 if len(normalized) >= 50 else 1,
                                max_features=max_features).fit(normalized)
    ref_vocab = sorted(reference.vocabulary_, key=reference.vocabulary_.get)
    if max_features is None:  # with a cap, equally frequent n-grams at the cut may be chosen differently
        assert ours.vocabulary.tolist() == ref_vocab
        assert np.allclose(ours.idf, reference.idf_, atol=1e-6)
    assert len(ours.vocabulary) == len(ref_vocab)
    # Transforming with the same vocabulary and idf gives sklearn's vectors, one text or many.
    reference.vocabulary_ = {t: i for i, t in enumerate(ours.vocabulary.tolist())}
    reference.idf_ = ours.idf.astype(np.float64)
    probe = [*normalized, "نص لم يُر من قبل في التدريب", "zzz"]
    assert np.allclose(ours.transform(probe).toarray(), reference.transform(probe).toarray(), atol=1e-5)
    for text in probe[:5]:
        assert np.allclose(ours.transform([text]).toarray(), reference.transform([text]).toarray(), atol=1e-5)


def test_char_tfidf_of_nothing_never_matches():
    empty = CharTfidf.fit(["", " "])
    assert empty.transform(["أي نص"]).nnz == 0


def test_hybrid_and_semantic_vectors_are_unit_length():
    texts, _ = feedback_corpus(per_topic=3, seed=4)
    normalized = [normalize(t) for t in texts]
    for method in ("tfidf", "semantic", "hybrid"):
        vec = TextVectorizer(method, n_components=8)
        x = vec.fit_transform(normalized, texts)
        assert vec.method == method  # the embeddings extra is installed in the test env
        assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-4)
        again = TextVectorizer.from_state(*vec.state()).transform(normalized[:3], texts[:3])
        # Up to e5's int8 rounding, which depends a little on the texts encoded beside them (nlp.e5_onnx;
        # cosine ≥ 0.997 before the hybrid removes e5's mean direction, which magnifies it).
        assert ((again * x[:3]).sum(axis=1) > 0.98).all()
