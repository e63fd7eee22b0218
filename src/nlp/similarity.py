"""Similar-text search ("similar ideas while typing", duplicate feedback) over character TF-IDF and embeddings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import scipy.sparse as sp

from nlp.embeddings import get_encoder
from nlp.normalize import normalize
from nlp.serialize import pack, unpack
from nlp.vectorize import CharTfidf

__all__ = ["SimilarityIndex"]

FORMAT = "nlp.SimilarityIndex"
FORMAT_VERSION = 1


class SimilarityIndex:
    """Cosine search over texts. method "tfidf" (character n-grams, sparse), "semantic" (sentence embeddings)
    or "hybrid" (weighted mean of both scores). The vocabulary and idf are learned by ``fit``; ``add``
    indexes more texts with them (cheap: no re-fit), replacing texts whose id is already indexed."""

    def __init__(self, method: str = "tfidf", *, encoder: str = "e5", semantic_weight: float = 0.5) -> None:
        if method not in ("tfidf", "semantic", "hybrid"):
            raise ValueError(f"unknown method {method!r}")
        self.method = method
        self.encoder = encoder
        self.semantic_weight = semantic_weight

    def fit(self, ids: Sequence[Hashable], texts: Sequence[str]) -> SimilarityIndex:
        if len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        if self.method != "tfidf" and get_encoder(self.encoder) is None:
            self.method_ = "tfidf"  # embeddings extra missing: degrade gracefully
        else:
            self.method_ = self.method
        normalized = [normalize(t) for t in texts]
        self.char_ = CharTfidf.fit(normalized) if self.method_ != "semantic" else None
        self.ids_: list = []
        self._pos: dict = {}
        self._alive = np.zeros(0, dtype=bool)
        self._char_blocks: list[sp.csr_matrix] = []
        self._emb_blocks: list[np.ndarray] = []
        self._char = None
        self._emb = None
        self.add(ids, texts)
        return self

    def add(self, ids: Sequence[Hashable], texts: Sequence[str]) -> None:
        """Index more texts; an id already present is replaced by its new text."""
        if len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        if not ids:
            return
        for i in ids:
            if i in self._pos:
                self._alive[self._pos[i]] = False
        start = len(self.ids_)
        self.ids_.extend(ids)
        self._pos.update({i: start + n for n, i in enumerate(ids)})
        self._alive = np.concatenate([self._alive, np.ones(len(ids), dtype=bool)])
        if self.char_ is not None:
            self._char_blocks.append(self.char_.transform([normalize(t) for t in texts]))
            self._char = None
        if self.method_ != "tfidf":
            self._emb_blocks.append(get_encoder(self.encoder).encode(list(texts)))
            self._emb = None

    def _matrices(self):
        # Blocks are stacked lazily, once per burst of adds, so add() stays O(batch).
        if self._char is None and self._char_blocks:
            self._char = sp.vstack(self._char_blocks).tocsr()
            self._char_blocks = [self._char]
        if self._emb is None and self._emb_blocks:
            self._emb = np.vstack(self._emb_blocks)
            self._emb_blocks = [self._emb]
        return self._char, self._emb

    def scores(self, text: str) -> np.ndarray:
        """Similarity of one text to every indexed row (dead rows included; see query)."""
        char, emb = self._matrices()
        n = len(self.ids_)
        total = np.zeros(n, dtype=np.float32)
        if self.method_ != "semantic" and char is not None:
            q = self.char_.transform([normalize(text)])
            char_scores = np.asarray((char @ q.T).todense()).ravel()
            total += char_scores * (1 - self.semantic_weight if self.method_ == "hybrid" else 1.0)
        if self.method_ != "tfidf" and emb is not None:
            q = get_encoder(self.encoder).encode([text])[0]
            total += (emb @ q) * (self.semantic_weight if self.method_ == "hybrid" else 1.0)
        return total

    def query(
        self, text: str, k: int = 5, min_score: float = 0.0, exclude: Hashable | None = None
    ) -> list[tuple]:
        """Up to k (id, score) pairs, best first, with score >= min_score."""
        if not self.ids_ or not text or not text.strip():
            return []
        scores = self.scores(text)
        scores[~self._alive] = -np.inf
        if exclude is not None and exclude in self._pos:
            scores[self._pos[exclude]] = -np.inf
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids_[i], round(float(scores[i]), 4)) for i in top if scores[i] >= min_score]

    def __len__(self) -> int:
        return int(self._alive.sum())

    def to_bytes(self) -> bytes:
        char, emb = self._matrices()
        meta = {
            "method": self.method,
            "method_": self.method_,
            "encoder": self.encoder,
            "semantic_weight": self.semantic_weight,
            "ids": self.ids_,
        }
        arrays = {"alive": self._alive}
        if self.char_ is not None:
            char = (
                char if char is not None else sp.csr_matrix((0, len(self.char_.vocabulary)), dtype=np.float32)
            )
            arrays.update(
                vocabulary=self.char_.vocabulary,
                idf=self.char_.idf,
                data=char.data.astype(np.float32),
                indices=char.indices.astype(np.int32),
                indptr=char.indptr.astype(np.int64),
            )
        if emb is not None:
            arrays["embeddings"] = emb.astype(np.float32)
        return pack(FORMAT, FORMAT_VERSION, meta, arrays)

    @classmethod
    def from_bytes(cls, blob: bytes) -> SimilarityIndex:
        meta, arrays = unpack(blob, FORMAT, FORMAT_VERSION)
        index = cls(meta["method"], encoder=meta["encoder"], semantic_weight=meta["semantic_weight"])
        index.method_ = meta["method_"]
        index.ids_ = list(meta["ids"])
        index._pos = {i: n for n, i in enumerate(index.ids_)}
        index._alive = arrays["alive"].astype(bool)
        index.char_, index._char, index._char_blocks = None, None, []
        index._emb, index._emb_blocks = None, []
        if "vocabulary" in arrays:
            index.char_ = CharTfidf(arrays["vocabulary"], arrays["idf"])
            shape = (len(index.ids_), len(arrays["vocabulary"]))
            index._char = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
            index._char_blocks = [index._char]
        if "embeddings" in arrays:
            index._emb = arrays["embeddings"]
            index._emb_blocks = [index._emb]
        return index
