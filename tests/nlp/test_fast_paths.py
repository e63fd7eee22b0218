"""The hand-written numeric fast paths against the scikit-learn routines they replace.

``nlp.vectorize._lsa_components`` stands in for TruncatedSVD (randomized),
``nlp.cluster._spectral_embedding`` for ``sklearn.manifold.spectral_embedding`` on the k-NN graph of
the texts, and ``nlp.cluster.cosine_silhouette`` for ``sklearn.metrics.silhouette_score``. Their docstrings state why they are faster; these tests state what they must keep: the
same answer within a stated tolerance, on a corpus with the shape of real feedback (topics that share
words, dialect fillers everywhere). Only these functions are imported: their internals may change.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
from scipy.linalg import subspace_angles
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import spectral_embedding
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import kneighbors_graph
from sklearn.preprocessing import normalize

from nlp.cluster import _spectral_embedding, cosine_silhouette
from nlp.vectorize import _lsa_components

TOPICS = [
    "تجديد جواز السفر الجوازات موعد استلام رسوم طلب معلق ابني الجديد",
    "تسجيل الدخول أبشر رمز التحقق الجوال كلمة المرور خطأ التطبيق يعلق",
    "المخالفات المرورية سداد اعتراض ساهر مخالفة مسددة النظام المتراكمة",
    "حجز موعد المستشفى الطبيب صحتي إلغاء أسنان العيادة الانتظار",
    "فاتورة الكهرباء مرتفعة انقطاع الحي العداد قراءة التيار الشركة",
    "الدعم السكني سكني القرض العقاري الأرض الاستحقاق البنك التمويل",
]
FILLER = "الخدمة الموقع النظام لا يعمل منذ يومين أرجو الحل بسرعة شكرا جدا اليوم ما زال المشكلة".split()

# The k-NN graph _spectral_embedding documents: 10 cosine neighbours, symmetrized by averaging.
NEIGHBOURS = 10
# Tolerances. Measured on this corpus (seeds 0-4, 600-1500 texts, k 8-40): residuals within 0.1 % of
# sklearn's; leading LSA subspaces 0.03-2.5 degrees from the exact one (sklearn's 0.04-3.9); spectral
# embeddings within 0.1 degree of sklearn's and identical clusterings (ARI 1.0).
RECONSTRUCTION_SLACK = 0.01  # ours may leave at most 1 % more of ||X||_F unexplained than TruncatedSVD
MAX_ANGLE_DEGREES = 1.0
MIN_ARI = 0.95


def corpus(per_topic: int, seed: int, neighbour_words: int = 3) -> tuple[list[str], np.ndarray]:
    """Short texts: words of one topic, a few of the next topic's, and fillers; labels are the topics.

    With ``neighbour_words=0`` the topics share only the fillers, and their k-NN graph falls apart
    into one component per topic.
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for t, words in enumerate(TOPICS):
        own, next_topic = words.split(), TOPICS[(t + 1) % len(TOPICS)].split()
        for _ in range(per_topic):
            picks = [own[i] for i in rng.integers(0, len(own), rng.integers(3, 7))]
            shared = rng.integers(0, neighbour_words) if neighbour_words else 0
            picks += [next_topic[i] for i in rng.integers(0, len(next_topic), shared)]
            picks += [FILLER[i] for i in rng.integers(0, len(FILLER), rng.integers(2, 5))]
            rng.shuffle(picks)
            texts.append(" ".join(picks))
            labels.append(t)
    return texts, np.array(labels)


def tfidf(texts: list[str]) -> sp.csr_matrix:
    """Character 2-5-gram TF-IDF, as nlp.vectorize builds it (sklearn's char_wb, sublinear tf)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    return vectorizer.fit_transform(texts).astype(np.float32).tocsr()


def lsa_vectors(texts: list[str]) -> np.ndarray:
    """L2-normalized 30-dimensional LSA vectors: what the clustering receives."""
    return normalize(TruncatedSVD(30, random_state=0).fit_transform(tfidf(texts))).astype(np.float32)


def knn_graph(x: np.ndarray) -> sp.csr_matrix:
    graph = kneighbors_graph(x, NEIGHBOURS, metric="cosine", include_self=False)
    return (0.5 * (graph + graph.T)).tocsr()


def reference_embedding(x: np.ndarray, n_components: int) -> np.ndarray:
    """sklearn's (unregularized) spectral embedding of the same graph."""
    return spectral_embedding(knn_graph(x), n_components=n_components, norm_laplacian=True, drop_first=False,
                              random_state=0)


def regularized_reference(x: np.ndarray, n_components: int) -> np.ndarray:
    """The embedding _spectral_embedding documents, computed densely and exactly: top eigenvectors of
    D_tau^-1/2 (A + tau/n 11^T) D_tau^-1/2 with tau the mean degree, scaled back by D_tau^-1/2."""
    graph = knn_graph(x).toarray()
    n = len(graph)
    degree = graph.sum(axis=1)
    tau = degree.mean()
    inv_sqrt = 1 / np.sqrt(degree + tau)
    affinity = inv_sqrt[:, None] * (graph + tau / n) * inv_sqrt[None, :]
    values, vectors = np.linalg.eigh(affinity)
    top = np.argsort(-values)[:n_components]
    return vectors[:, top] * inv_sqrt[:, None]


def labels_of(embedding: np.ndarray, k: int) -> np.ndarray:
    return KMeans(k, n_init=3, random_state=0).fit_predict(normalize(embedding[:, :k]))


def exact_components(dense: np.ndarray, k: int) -> np.ndarray:
    """The top-k right singular vectors of a short wide matrix, exactly (from its small Gram matrix)."""
    values, vectors = np.linalg.eigh(dense @ dense.T)
    top = np.argsort(-values)[:k]
    return (dense.T @ vectors[:, top] / np.sqrt(values[top])).T


def max_angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """The largest principal angle between the column spaces of a and b."""
    return float(np.degrees(subspace_angles(a.astype(np.float64), b.astype(np.float64)).max()))


# ----- LSA: _lsa_components against TruncatedSVD --------------------------------------------------


@pytest.mark.parametrize(("per_topic", "seed", "k"), [(100, 0, 10), (100, 3, 8), (150, 2, 20), (100, 1, 40)])
def test_lsa_components_match_truncated_svd(per_topic: int, seed: int, k: int) -> None:
    x = tfidf(corpus(per_topic, seed)[0])
    ours = _lsa_components(x, k, random_state=0).astype(np.float64)
    reference = TruncatedSVD(k, algorithm="randomized", n_iter=4, random_state=0).fit(x.astype(np.float64))
    assert ours.shape == reference.components_.shape == (k, x.shape[1])
    assert np.allclose(ours @ ours.T, np.eye(k), atol=1e-4)  # orthonormal rows

    # As good a rank-k approximation of X as sklearn's.
    dense = x.toarray().astype(np.float64)

    def residual(components: np.ndarray) -> float:
        return float(np.linalg.norm(dense - (dense @ components.T) @ components))

    assert residual(ours) <= (1 + RECONSTRUCTION_SLACK) * residual(reference.components_)

    # The leading directions (one per topic, above a clear gap in the spectrum) are as close to the exact
    # singular subspace as sklearn's, give or take a degree. Both randomized methods are a few degrees off
    # when k is small; beyond the gap singular values differ by 1-3 % and any rotation there is as good.
    values = reference.singular_values_
    leading = len(TOPICS)
    assert values[leading - 1] / values[leading] >= 1.1  # the corpus has its topic structure
    exact = exact_components(dense, leading)
    sklearn_error = max_angle_degrees(reference.components_[:leading].T, exact.T)
    assert max_angle_degrees(ours[:leading].T, exact.T) <= sklearn_error + MAX_ANGLE_DEGREES
    # The first direction (50 % above the next) is the same vector, with the same sign.
    assert ours[0] @ reference.components_[0] >= 0.999


def test_lsa_components_are_deterministic_with_a_stated_sign() -> None:
    x = tfidf(corpus(60, 5)[0])
    first = _lsa_components(x, 12, random_state=3)
    assert np.array_equal(first, _lsa_components(x, 12, random_state=3))
    # As sklearn's svd_flip on components: the largest loading of each component is positive.
    largest = first[np.arange(len(first)), np.argmax(np.abs(first), axis=1)]
    assert (largest > 0).all()


# ----- spectral embedding: _spectral_embedding against sklearn.manifold.spectral_embedding ---------


@pytest.mark.parametrize(("per_topic", "seed"), [(100, 0), (100, 1), (150, 3)])
def test_spectral_embedding_matches_sklearn_on_the_same_knn_graph(per_topic: int, seed: int) -> None:
    texts, truth = corpus(per_topic, seed)
    x = lsa_vectors(texts)
    k = len(TOPICS)
    ours = _spectral_embedding(x, k, random_state=0)
    exact = regularized_reference(x, k)
    assert ours.shape == exact.shape == (len(texts), k)
    assert max_angle_degrees(ours, exact) <= MAX_ANGLE_DEGREES  # ARPACK on the operator = the dense answer
    # On a connected graph the regularization changes nothing a reader sees: sklearn's clustering.
    ours_labels, reference_labels = labels_of(ours, k), labels_of(reference_embedding(x, k), k)
    assert adjusted_rand_score(reference_labels, ours_labels) >= MIN_ARI
    # And the clustering found is the topics (sanity of the corpus, for both).
    assert adjusted_rand_score(truth, ours_labels) >= 0.9


def test_spectral_embedding_keeps_topics_apart_when_the_graph_falls_apart() -> None:
    """Topics sharing no word beyond the fillers: the graph falls apart into components. Unregularized, eigenvalue 1 repeats once per
    component and ARPACK returns only some of its eigenvectors, so whole topics merged; the regularized
    operator has one eigenvector per topic and finds each (as sklearn's shift-invert does)."""
    texts, truth = corpus(100, 0, neighbour_words=0)
    x = lsa_vectors(texts)
    k = len(TOPICS)
    graph = kneighbors_graph(x, NEIGHBOURS, metric="cosine", include_self=False)
    assert csgraph.connected_components(graph, directed=False)[0] >= 2  # the case under test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: "Graph is not fully connected"
        reference = reference_embedding(x, k)
    ours = labels_of(_spectral_embedding(x, k, random_state=0), k)
    assert adjusted_rand_score(labels_of(reference, k), ours) >= MIN_ARI
    assert adjusted_rand_score(truth, ours) >= 0.9


# ----- silhouette: cosine_silhouette against sklearn.metrics.silhouette_score ----------------------


@pytest.mark.parametrize("k", [2, 6, 25, 150])
def test_cosine_silhouette_matches_sklearn(k: int) -> None:
    """The same score from cluster sums as from the n x n distances, singletons (k = 150 on 600 texts
    has some) and label numbering with gaps included."""
    texts, _ = corpus(100, 2)
    x = lsa_vectors(texts)
    labels = np.random.default_rng(k).integers(0, k, len(texts)) * 3  # labels 0, 3, 6...: not dense
    reference = silhouette_score(x, labels, metric="cosine")
    assert cosine_silhouette(x, labels) == pytest.approx(reference, abs=1e-6)
    topics = labels_of(_spectral_embedding(x, len(TOPICS), random_state=0), len(TOPICS))
    assert cosine_silhouette(x, topics) == pytest.approx(silhouette_score(x, topics, metric="cosine"), abs=1e-6)
