"""A stand-in sentence encoder for the similar-ideas benchmark, plugged in through nlp's ``Encoder``
protocol: words and word pairs hashed with signs into 256 dimensions (scikit-learn's HashingVectorizer:
a random projection of the word counts), L2-normalized. Well under a millisecond a text, so 100k stored
vectors take seconds and a query costs what a fast static encoder would.

It is NOT the product's encoder (e5 costs 0.2-1 s a query on this machine): the benchmark measures the
database search and the request around it. ``install()`` makes ``nlp.get_encoder("hashed")`` return it
in this process; the benchmark's server runs through ``bench/_hashed_server.py`` so that uvicorn's
worker processes install it too.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

NAME, DIM = "hashed", 256


class HashedEncoder:
    name, dim = NAME, DIM

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.vectorizer = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=DIM,
                                            alternate_sign=True, norm=None, lowercase=True)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = self.vectorizer.transform(list(texts)).toarray().astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if progress:
            progress(len(texts))
        return out


@cache
def hashed() -> HashedEncoder:
    return HashedEncoder()


def install() -> None:
    """``nlp.get_encoder("hashed")`` returns the hashed encoder from now on, in this process. Cheap when nlp
    is not imported yet (it is patched as it loads): uvicorn kills a worker that does not answer its
    health check within 5 s of starting, and importing nlp on a busy machine takes longer."""
    if "nlp.embeddings" in sys.modules:
        _patch(sys.modules["nlp.embeddings"])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _patch(embeddings: Any) -> None:
    original = embeddings.get_encoder
    if getattr(original, "bench_hashed", False):
        return

    def get_encoder(name: str = "e5"):
        return hashed() if name == NAME else original(name)

    get_encoder.bench_hashed = True  # type: ignore[attr-defined]
    embeddings.get_encoder = get_encoder
    if "nlp" in sys.modules and hasattr(sys.modules["nlp"], "get_encoder"):
        sys.modules["nlp"].get_encoder = get_encoder


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "nlp.embeddings":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _patch(module)  # before nlp/__init__ binds get_encoder from it

        spec.loader.exec_module = exec_module
        return spec
