"""Top-level themes: fine themes grouped into a number a person can triage, plus an "other" bucket.

A corpus with 77 kinds of request needs about that many fine themes to keep them apart, but nobody
works through 77 cards: the fine themes are grouped by Ward linkage of their centroids (deterministic,
tends to even groups) into at most MAX_GROUPS top-level themes. Themes of texts set aside by the
clustering (other language, nothing said) form the "other" group. Each group is named like a theme,
from its own texts, so a group reads "بطاقة جديدة" and its children "تفعيل بطاقتي", "وصول البطاقة".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from nlp.terms import content_terms
from nlp.themes.phrases import phrase_names

__all__ = ["MAX_GROUPS", "ThemeGroup", "build_groups", "form_texts", "group_themes", "n_groups_for", "set_aside"]

_ARABIC = re.compile(r"[\u0600-\u06FF]")
_LATIN = re.compile(r"[a-z]")
_LABEL = re.compile(r"([^\W\d_]\w*)\s*:")  # a form's field label: "الإيجابيات: ..."
FORM_MIN_TEXTS = 3  # a label is a form's when this many texts (and 0.5 %) use it
FOREIGN_MAX_SHARE = 0.3  # texts in another script are set aside only while they are this rare
MIN_TEXTS = 20  # below this every text is clustered

MAX_GROUPS = 15


@dataclass
class ThemeGroup:
    """A top-level theme. ``id`` is its smallest child's theme id (stable while that child lives)."""

    id: int
    label: str
    children: list[int] = field(default_factory=list)  # theme ids, largest first
    size: int = 0
    other: bool = False


def n_groups_for(k: int) -> int:
    """Top-level themes for k fine themes: every theme its own group up to 6, then ~sqrt(2k), at most 15."""
    if k <= 6:
        return k
    return int(min(MAX_GROUPS, max(6, round(np.sqrt(2 * k)))))


def group_themes(centroids: np.ndarray, sizes: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Group index (0..g-1) per fine theme; themes flagged ``other`` share one group, the last."""
    k = len(centroids)
    regular = np.flatnonzero(~other)
    out = np.zeros(k, dtype=np.int64)
    g = n_groups_for(len(regular))
    if len(regular) <= g:
        out[regular] = np.arange(len(regular))
    else:
        # Ward on L2-normalized centroids (Euclidean distance is monotone in cosine there), each centroid
        # repeated by no weight: a big theme must not swallow its neighbours just by being big.
        tree = linkage(centroids[regular].astype(np.float64), method="ward")
        flat = fcluster(tree, t=g, criterion="maxclust") - 1
        # Number groups by their largest member's position so the order does not depend on scipy's.
        order = {}
        for i in np.argsort(-sizes[regular], kind="stable"):
            order.setdefault(int(flat[i]), len(order))
        out[regular] = [order[int(f)] for f in flat]
        g = len(order)
    if other.any():
        out[other] = g
    return out


def form_texts(normalized: list[str]) -> np.ndarray:
    """Texts written in a form or template ("الإيجابيات: ... السلبيات: ..."): two or more field labels that
    other texts use too. Their shared labels outweigh what they say, so clustered with the rest they take
    a theme of their own, whatever they are about."""
    labels = [set(_LABEL.findall(t)) for t in normalized]
    counts: dict[str, int] = {}
    for found in labels:
        for label in found:
            counts[label] = counts.get(label, 0) + 1
    floor = max(FORM_MIN_TEXTS, 0.005 * len(normalized))
    common = {label for label, c in counts.items() if c >= floor}
    return np.array([len(found & common) >= 2 for found in labels], dtype=bool)


def set_aside(normalized: list[str]) -> np.ndarray:
    """Texts clustering should not see: nothing said (no content word: "شكرا", "👍"), texts in a form
    (form_texts) and, in a corpus mostly in one script, the few texts written in the other one (English
    one-liners among Arabic)."""
    n = len(normalized)
    if n < MIN_TEXTS:
        return np.zeros(n, dtype=bool)
    empty = np.array([not content_terms(t, normalized=True) for t in normalized]) | form_texts(normalized)
    arabic = np.array([bool(_ARABIC.search(t)) for t in normalized])
    latin = np.array([bool(_LATIN.search(t)) for t in normalized])
    foreign = ~arabic & latin if arabic.mean() >= 0.5 else arabic & ~latin
    aside = empty | (foreign if foreign.mean() <= FOREIGN_MAX_SHARE else np.zeros(n, dtype=bool))
    return aside if aside.sum() < n - 1 else np.zeros(n, dtype=bool)


def build_groups(themes, centroids: np.ndarray, central: list[list[int]], texts: list[str], previous) -> list:
    """ThemeGroups for described themes (sets each theme's ``parent``). ``central``: each theme's members,
    most central first (indexes into ``texts``); ``previous``: the earlier model (group names carry over)."""
    if not themes:
        return []
    sizes = np.array([t.size for t in themes])
    flags = np.array([t.other for t in themes])
    index = group_themes(centroids, sizes, flags)
    members = [np.flatnonzero(index == g) for g in range(int(index.max()) + 1)]
    members = [m[np.argsort(-sizes[m], kind="stable")] for m in members if len(m)]
    old = {g.id: g.label for g in getattr(previous, "groups_", [])} if previous is not None else {}
    groups = [
        ThemeGroup(id=min(themes[i].id for i in m), label="", children=[themes[i].id for i in m],
                   size=int(sizes[m].sum()), other=bool(flags[m].all()))
        for m in members
    ]
    # A group of several themes is named from their most central texts, round-robin so each child speaks.
    multi = [g for g, m in enumerate(members) if len(m) > 1 and not groups[g].other]
    samples = []
    for g in multi:
        lists = [central[i][:200] for i in members[g]]
        samples.append([texts[j] for row in range(200) for lst in lists if row < len(lst) for j in [lst[row]]][:200])
    names = phrase_names(samples, [old.get(groups[g].id) for g in multi])
    for g, m in enumerate(members):
        groups[g].label = themes[m[0]].label  # the largest child's name unless a group name is found
        for i in m:
            themes[i].parent = groups[g].id
    for g, name in zip(multi, names, strict=True):
        if name:
            groups[g].label = name
    return groups
