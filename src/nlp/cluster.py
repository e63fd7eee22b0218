"""Clustering of text vectors: spectral clustering on a k-NN graph, automatic choice of the number of themes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from nlp.parallel import row_blocks, thread_map
from nlp.vectorize import l2_normalize

__all__ = ["choose_n_clusters", "class_sums", "cluster_vectors", "cosine_silhouette", "k_grid"]

# Spectral clustering on a k-NN graph beat k-means (+0.03-0.05 NMI) and ward on every representation we
# measured, because short texts form curved, uneven clusters. Its cost grows fast with n, so it runs on
# a "core" sample and the other texts go to the nearest core centroid.
DEFAULT_MAX_CORE = 10_000
N_NEIGHBORS = 10
K_FACTOR = 1.6  # ceiling of the automatic number of themes, times sqrt(n) (see k_grid)
REGULARIZATION = 1.0  # tau as a multiple of the mean degree (see _spectral_embedding)


def neighbours(n: int) -> int:
    """Neighbours per text in the graph: N_NEIGHBORS, fewer among few texts. Ten neighbours of each of
    twelve ideas join almost every pair, and with the regularization's all-pairs affinity the graph is
    uniform: three plain topics of four ideas came out as one theme. A third of the texts at most keeps
    a text's neighbours mostly within its topic; from 30 texts on it is N_NEIGHBORS."""
    return max(2, min(N_NEIGHBORS, n // 3))


def _knn_graph(x: np.ndarray, n_neighbors: int) -> sp.csr_matrix:
    """Symmetric connectivity graph of cosine nearest neighbours (x is L2-normalized), in blocks of rows."""
    n = x.shape[0]
    n_neighbors = min(n_neighbors, n - 1)

    def top(sims: np.ndarray) -> np.ndarray:
        # The largest n_neighbors, selected directly (partitioning the negated matrix is 2x slower).
        return np.argpartition(sims, sims.shape[1] - n_neighbors, axis=1)[:, -n_neighbors:]

    nn = np.empty((n, n_neighbors), dtype=np.int64)
    for start, stop in row_blocks(n, 2048):  # blocks of rows keep the similarity matrix small
        sims = x[start:stop] @ x.T  # BLAS uses every core here
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        # numpy partitions without the GIL: halves of the block on parallel threads.
        nn[start:stop] = np.vstack(thread_map(lambda b, s=sims: top(s[b[0] : b[1]]), row_blocks(stop - start)))
    r, c = np.repeat(np.arange(n), n_neighbors), nn.ravel()
    graph = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=(n, n))
    return ((graph + graph.T) * 0.5).tocsr()


def _spectral_embedding(x: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """Leading eigenvectors of the regularized normalized k-NN adjacency (scaled back by D^-1/2).

    Regularized (Amini et al. 2013; Qin & Rohe 2013): every pair of texts gets a tiny affinity tau/n, with
    tau the mean degree, so A_tau = A + (tau/n) 11^T and D_tau = D + tau. Without it, feedback as it arrives
    breaks the graph apart: English one-liners, a template and near-duplicates form components of their
    own, eigenvalue 1 repeats once per component, ARPACK returns only some of those eigenvectors and the
    real topics merge into one theme. The rank-one term is applied inside the operator (no dense matrix).
    Solved directly with ARPACK on the largest eigenvalues: sklearn's spectral_embedding uses shift-invert,
    whose sparse factorization took 9 s on 6k texts versus 0.2 s here for the same clustering quality.
    """
    graph = _knn_graph(x, neighbours(x.shape[0]))
    n = graph.shape[0]
    n_components = min(n_components, n - 1)
    degree = np.asarray(graph.sum(axis=1)).ravel()
    tau = REGULARIZATION * float(degree.mean())
    inv_sqrt = 1.0 / np.sqrt(np.maximum(degree + tau, 1e-12))
    affinity = (sp.diags(inv_sqrt) @ graph @ sp.diags(inv_sqrt)).tocsr()
    u = inv_sqrt * np.sqrt(tau / n)  # A_tau's rank-one part, normalized: u u^T
    v0 = np.random.default_rng(random_state).uniform(-1, 1, n)  # seeded start: deterministic output
    if n_components >= n - 1 or n < 50:
        values, vectors = np.linalg.eigh(affinity.toarray() + np.outer(u, u))
    else:
        operator = LinearOperator((n, n), matvec=lambda v: affinity @ v + u * (u @ v), dtype=np.float64)
        # One BLAS thread: ARPACK makes thousands of small BLAS calls (n x ncv), too small to share out,
        # and when another process holds a core, OpenBLAS threads wait on each other at every call:
        # 3,000 texts x 160 vectors took 37-47 s with two threads and 4.4-5.7 s with one (load 7-9).
        with threadpool_limits(limits=1):
            values, vectors = eigsh(operator, k=n_components, which="LA", v0=v0, tol=1e-3)
    order = np.argsort(-values)[:n_components]
    return vectors[:, order] * inv_sqrt[:, None]


def _labels_from_embedding(emb: np.ndarray, k: int, random_state: int, n_init: int = 3) -> np.ndarray:
    """k-means on the first k spectral dimensions (rows L2-normalized); the best of n_init restarts.

    n_init 3 scored as well as 5 on msa_test (k=77, NMI 0.642/0.643/0.640 against 0.640/0.643/0.638 for
    seeds 0-2). The restarts run side by side, one thread each with single-threaded k-means: 0.76 s
    instead of 1.18 s for sklearn's own sequential restarts at k=69 on 10k texts.
    """
    # float64 on purpose: for float32 input sklearn's k-means++ takes a slow "upcast" distance path
    # (90% of the time of the automatic choice of k on 10k texts).
    rows = l2_normalize(emb[:, :k]).astype(np.float64)
    seeds = np.random.SeedSequence(random_state).generate_state(n_init).tolist()
    with threadpool_limits(limits=1):
        runs = thread_map(lambda seed: KMeans(k, n_init=1, random_state=seed).fit(rows), seeds)
    best = min(runs, key=lambda run: run.inertia_)  # ties: the first seed's run
    return best.labels_


def class_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Row sums of x per label (k x dim), as one sparse product: np.add.at was 2 s on 100k rows. The
    indicator has x's dtype: a float64 one made scipy upcast all of float32 x first (3x slower at 100k)."""
    ones = np.ones(len(labels), dtype=np.result_type(x.dtype, np.float32))
    indicator = sp.csr_matrix((ones, (labels, np.arange(len(labels)))), shape=(k, len(labels)))
    return np.asarray(indicator @ x, dtype=np.float64)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return l2_normalize(class_sums(x, labels, k))


def cosine_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance of L2-normalized rows x, as sklearn's silhouette_score, but
    without the n x n distance matrix: the distances from a text to all texts of a cluster sum to
    |cluster| - x . (sum of the cluster's rows). n x k instead of n x n work; sklearn's per-row loop over
    the precomputed matrix took 0.22 s per k on 3,000 texts, this takes 0.03-0.06 s (k <= 160)."""
    _, labels = np.unique(labels, return_inverse=True)
    n, k = len(labels), int(labels.max()) + 1
    x = x.astype(np.float64, copy=False)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    totals = counts[None, :] - x @ class_sums(x, labels, k).T  # summed distance to each cluster
    rows = np.arange(n)
    own_count = counts[labels]
    # A text's distance to itself (1 - |x|^2, zero up to rounding) is not part of its own cluster's mean.
    intra = (totals[rows, labels] - (1.0 - np.einsum("ij,ij->i", x, x))) / np.maximum(own_count - 1, 1)
    totals[rows, labels] = np.inf
    inter = (totals / counts[None, :]).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (inter - intra) / np.maximum(intra, inter)
    values[(own_count == 1) | ~np.isfinite(values)] = 0.0  # singletons score 0, as in sklearn
    return float(values.mean())


def k_grid(n: int) -> list[int]:
    """Candidate numbers of themes for n texts: up to 1.6*sqrt(n), at most n/4 and 200, geometric steps.

    Silhouette keeps rising with k on short texts, so the ceiling decides on sets like msa_test (3,574
    texts, 77 intents): 2*sqrt(n) gave 119 fine themes (hybrid NMI 0.708), 1.6*sqrt(n) gives 95 (0.700).
    Fewer fine themes read better under the top-level themes (nlp.themes.groups)."""
    k_max = int(min(200, K_FACTOR * np.sqrt(n), n // 4))
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
    xs64 = xs.astype(np.float64)

    def silhouette(k: int) -> float | None:
        labels = _labels_from_embedding(emb, k, random_state, n_init=2)
        if len(np.unique(labels)) < 2:
            return None
        return cosine_silhouette(xs64, labels)

    # One k per thread, each k-means single-threaded: small k-means runs scale badly over OpenMP threads
    # but run side by side well (1.45 s instead of 2.6 s for the grid at 100k texts; same labels).
    # Largest k first, so the longest runs do not end up last.
    with threadpool_limits(limits=1):
        values = thread_map(silhouette, sorted(grid, reverse=True))
    scores = {k: v for k, v in zip(sorted(grid, reverse=True), values, strict=True) if v is not None}
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
    rng = np.random.default_rng(random_state)
    core = np.sort(rng.choice(n, max_core, replace=False)) if n > max_core else np.arange(n)
    # (Building the core's neighbour graph while k is chosen was tried: on two cores both slowed down.)
    k = choose_n_clusters(x, random_state) if n_clusters is None else n_clusters
    k = max(1, min(k, n))
    if k == 1:
        return np.zeros(n, dtype=np.int64), _centroids(x, np.zeros(n, dtype=np.int64), 1)
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
