"""Clustering of text vectors: spectral clustering on a k-NN graph, automatic choice of the number of themes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from nlp.vectorize import l2_normalize

__all__ = ["choose_n_clusters", "cluster_vectors", "k_grid"]

# Spectral clustering on a k-NN graph beat k-means (+0.03-0.05 NMI) and ward on every representation we
# measured, because short texts form curved, uneven clusters. Its cost grows fast with n, so it runs on
# a "core" sample and the other texts go to the nearest core centroid.
DEFAULT_MAX_CORE = 10_000
N_NEIGHBORS = 10


def _knn_graph(x: np.ndarray, n_neighbors: int) -> sp.csr_matrix:
    """Symmetric connectivity graph of cosine nearest neighbours (x is L2-normalized), in blocks of rows."""
    n = x.shape[0]
    n_neighbors = min(n_neighbors, n - 1)
    rows, cols = [], []
    for start in range(0, n, 2048):
        sims = x[start : start + 2048] @ x.T
        for i in range(sims.shape[0]):
            sims[i, start + i] = -np.inf  # not its own neighbour
        nn = np.argpartition(-sims, n_neighbors - 1, axis=1)[:, :n_neighbors]
        rows.append(np.repeat(np.arange(start, start + sims.shape[0]), n_neighbors))
        cols.append(nn.ravel())
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, n))
    return ((graph + graph.T) * 0.5).tocsr()


def _spectral_embedding(x: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """Leading eigenvectors of the normalized k-NN adjacency D^-1/2 A D^-1/2 (scaled back by D^-1/2).

    Solved directly with ARPACK on the largest eigenvalues: sklearn's spectral_embedding uses shift-invert,
    whose sparse factorization took 9 s on 6k texts versus 0.2 s here for the same clustering quality.
    """
    graph = _knn_graph(x, N_NEIGHBORS)
    n = graph.shape[0]
    n_components = min(n_components, n - 1)
    degree = np.asarray(graph.sum(axis=1)).ravel()
    inv_sqrt = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    affinity = sp.diags(inv_sqrt) @ graph @ sp.diags(inv_sqrt)
    v0 = np.random.default_rng(random_state).uniform(-1, 1, n)  # seeded start: deterministic output
    if n_components >= n - 1 or n < 50:
        values, vectors = np.linalg.eigh(affinity.toarray())
    else:
        values, vectors = eigsh(affinity, k=n_components, which="LA", v0=v0, tol=1e-3)
    order = np.argsort(-values)[:n_components]
    return vectors[:, order] * inv_sqrt[:, None]


def _labels_from_embedding(emb: np.ndarray, k: int, random_state: int, n_init: int = 5) -> np.ndarray:
    # float64 on purpose: for float32 input sklearn's k-means++ takes a slow "upcast" distance path
    # (90% of the time of the automatic choice of k on 10k texts).
    rows = l2_normalize(emb[:, :k]).astype(np.float64)
    return KMeans(k, n_init=n_init, random_state=random_state).fit_predict(rows)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, x)
    return l2_normalize(sums)


def k_grid(n: int) -> list[int]:
    """Candidate numbers of themes for n texts: about 2*sqrt(n), at most n/4 and 200, geometric steps."""
    k_max = int(min(200, 2 * np.sqrt(n), n // 4))
    if k_max < 2:
        return [1]
    grid = np.unique(np.round(np.geomspace(2, k_max, num=min(14, k_max - 1))).astype(int))
    return grid.tolist()


def choose_n_clusters(x: np.ndarray, random_state: int = 0, sample: int = 3_000) -> int:
    """Pick the number of themes by silhouette (cosine) over k_grid(n), computed on a sample.

    Silhouette keeps creeping up with k on short texts, so take the SMALLEST k whose silhouette is
    within 10% of the best: fewer, broader themes are what an agency can act on.
    """
    n = x.shape[0]
    grid = k_grid(n)
    if grid == [1] or n < 4:
        return 1
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(n, sample, replace=False)) if n > sample else np.arange(n)
    xs = x[idx]
    grid = [k for k in grid if k < len(idx)]
    emb = _spectral_embedding(xs, max(grid), random_state)
    scores = {}
    for k in grid:
        labels = _labels_from_embedding(emb, k, random_state, n_init=2)
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = silhouette_score(xs, labels, metric="cosine")
    if not scores:
        return 1
    best = max(scores.values())
    # Silhouettes near zero mean "no structure": one theme rather than an arbitrary split.
    if best <= 0.02:
        return 1
    return min(k for k, s in scores.items() if s >= best - 0.1 * abs(best))


def cluster_vectors(
    x: np.ndarray,
    n_clusters: int | None = None,
    *,
    random_state: int = 0,
    max_core: int = DEFAULT_MAX_CORE,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels (0..k-1, no empty cluster) and L2-normalized centroids for L2-normalized vectors x."""
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, x.shape[1]), dtype=np.float32)
    k = choose_n_clusters(x, random_state) if n_clusters is None else n_clusters
    k = max(1, min(k, n))
    if k == 1:
        return np.zeros(n, dtype=np.int64), _centroids(x, np.zeros(n, dtype=np.int64), 1)
    rng = np.random.default_rng(random_state)
    core = np.sort(rng.choice(n, max_core, replace=False)) if n > max_core else np.arange(n)
    if len(core) <= k + 1:  # too few points for a graph: every distinct point its own theme
        labels = KMeans(k, n_init=3, random_state=random_state).fit_predict(x)
    else:
        emb = _spectral_embedding(x[core], k, random_state)
        core_labels = _labels_from_embedding(emb, k, random_state)
        labels = _nearest(x, _centroids(x[core], core_labels, k)) if len(core) < n else core_labels
    # Renumber densely (a cluster can end up empty after nearest-centroid assignment).
    _, labels = np.unique(labels, return_inverse=True)
    k = int(labels.max()) + 1
    return labels.astype(np.int64), _centroids(x, labels, k)


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape[0], dtype=np.int64)
    for start in range(0, x.shape[0], 8192):
        out[start : start + 8192] = np.argmax(x[start : start + 8192] @ centroids.T, axis=1)
    return out
