"""Theme discovery: a scikit-learn-shaped model that finds, labels, keeps and assigns themes in texts."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence

import numpy as np

from nlp.cluster import DEFAULT_MAX_CORE, class_sums
from nlp.merge import cluster_to_k
from nlp.normalize import normalize
from nlp.themes.base import Progress, Theme, resolve_method
from nlp.themes.edits import EditsMixin
from nlp.themes.extend import ExtendMixin
from nlp.themes.groups import build_groups, set_aside
from nlp.themes.names import theme_keywords
from nlp.themes.phrases import phrase_names
from nlp.themes.refit import RefitMixin
from nlp.themes.store import StoreMixin
from nlp.vectorize import TextVectorizer, l2_normalize

__all__ = ["ThemeModel"]

MIN_OTHER = 3  # fewer texts set aside than this join their nearest theme instead of an "other" theme
NAME_SAMPLE = 200  # texts per theme that names are chosen from (the most central ones)


class ThemeModel(RefitMixin, EditsMixin, ExtendMixin, StoreMixin):
    """Discover themes in short texts, keep their identity over time and assign new texts.

    Parameters
    ----------
    n_themes : int | None
        Number of themes; None chooses it (silhouette over a grid, on a sample).
    method : "tfidf" | "semantic" | "hybrid" | "auto"
        Representation (see nlp.vectorize). "auto" picks the best one installed for the corpus size.
    random_state : int
        Same texts + same random_state give the same themes.
    assign_threshold : float
        ``assign`` returns None when the best cosine similarity to a theme centroid is below this.
    match_threshold : float
        Minimum centroid similarity for a new cluster to keep a previous theme's id on re-fit.

    After ``fit``: ``themes_`` (list[Theme]), ``labels_`` (theme id per input text), ``centroids_``
    (one row per theme, same order), ``method_``, ``retired_ids_`` (ids that vanished in this fit).
    ``extend(texts, ids)`` adds new texts without re-clustering the others (nlp.themes.extend).
    """

    def __init__(
        self,
        n_themes: int | None = None,
        method: str = "tfidf",
        random_state: int = 0,
        *,
        encoder: str = "e5",
        n_components: int = 200,
        embed_weight: float = 1.0,
        assign_threshold: float = 0.3,
        match_threshold: float = 0.6,
        n_keywords: int = 6,
        n_representative: int = 3,
        max_core: int = DEFAULT_MAX_CORE,
    ) -> None:
        self.n_themes = n_themes
        self.method = method
        self.random_state = random_state
        self.encoder = encoder
        self.n_components = n_components
        self.embed_weight = embed_weight
        self.assign_threshold = assign_threshold
        self.match_threshold = match_threshold
        self.n_keywords = n_keywords
        self.n_representative = n_representative
        self.max_core = max_core

    # ------------------------------------------------------------------------------------------ fit
    def fit(
        self,
        texts: Sequence[str],
        ids: Sequence[Hashable] | None = None,
        *,
        previous: ThemeModel | None = None,
        progress: Progress | None = None,
    ) -> ThemeModel:
        """Find themes in ``texts``. With ``previous`` (an earlier fit), themes that persist keep their ids,
        human edits (renames, merges, pins) carry over, vanished themes are listed in ``retired_ids_``."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        if ids is not None and len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        report = progress or (lambda stage, done, total: None)
        self.timings_: dict[str, float] = {}
        t0 = time.perf_counter()

        # Identical texts (after normalization) are clustered once: cheaper, and a flood of copies of one
        # complaint should not bend the geometry of every other theme.
        report("normalize", 0, len(texts))
        normalized = [normalize(t) for t in texts]
        uniq_index: dict[str, int] = {}
        inverse = np.empty(len(texts), dtype=np.int64)
        uniq_raw: list[str] = []
        for i, key in enumerate(normalized):
            j = uniq_index.setdefault(key, len(uniq_index))
            if j == len(uniq_raw):
                uniq_raw.append(texts[i])
            inverse[i] = j
        uniq_norm = list(uniq_index)
        report("normalize", len(texts), len(texts))
        self._tick("normalize", t0)

        method, encoder = resolve_method(self.method, len(uniq_norm), self.encoder)
        self.vectorizer_ = TextVectorizer(
            method,
            encoder=encoder,
            n_components=self.n_components,
            embed_weight=self.embed_weight,
            random_state=self.random_state,
        )
        self.method_ = method
        self.next_id_ = previous.next_id_ if previous is not None else 1
        self.aliases_: dict[int, int] = {}  # theme merged away -> theme it was merged into
        self.alias_order_: list[int] = []  # aliases that still have a centroid (rows of alias_centroids_)
        self._alias_members: dict[int, np.ndarray] = {}
        self._pinned_ids: set[int] = set()
        self.retired_ids_: list[int] = []
        self.ids_ = list(ids) if ids is not None else None
        self.extended_texts_ = 0  # texts added by ``extend`` since this fit

        if not uniq_norm:
            self.centroids_ = np.zeros((0, 1), dtype=np.float32)
            self.alias_centroids_ = np.zeros((0, 1), dtype=np.float32)
            self.themes_, self.labels_, self.groups_ = [], [], []
            if previous is not None:
                self.retired_ids_ = [t.id for t in previous.themes_]
            return self

        t0 = time.perf_counter()
        done = [0]

        def embed_progress(n: int) -> None:
            done[0] += n
            report("embed", done[0], len(uniq_norm))

        x = self.vectorizer_.fit_transform(uniq_norm, uniq_raw, progress=embed_progress)
        self._tick("vectorize", t0)

        t0 = time.perf_counter()
        report("cluster", 0, 1)
        labels, centroids, aside = self._cluster(x, set_aside(uniq_norm))
        report("cluster", 1, 1)
        self._tick("cluster", t0)

        t0 = time.perf_counter()
        theme_ids, pinned_extra = self._identity(previous, labels, centroids, uniq_norm, uniq_raw)
        if pinned_extra is not None:
            labels, centroids, theme_ids = pinned_extra
        # Clusters folded into an existing theme (via a human merge) share its id: collapse them.
        labels, centroids, theme_ids = self._collapse(x, labels, theme_ids)
        self._tick("identity", t0)

        t0 = time.perf_counter()
        report("label", 0, 1)
        other = np.bincount(labels, weights=aside, minlength=len(theme_ids)) * 2 > np.bincount(
            labels, minlength=len(theme_ids)
        )
        self.themes_ = self._describe(x, labels, centroids, theme_ids, uniq_raw, inverse, previous, other)
        self.centroids_ = centroids
        self._set_alias_centroids(x, labels)
        self.labels_ = [theme_ids[labels[j]] for j in inverse]
        report("label", 1, 1)
        self._tick("label", t0)
        return self

    def _cluster(self, x: np.ndarray, aside: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cluster the texts that say something in the corpus's language; the others, and the small
        isolated clusters that merging to a requested number of themes sets aside (templates), form one
        "other" cluster (a few of them join their nearest theme), so they never take a real topic's place.
        Returns labels, centroids and the texts in the "other" cluster."""
        labels = np.full(len(x), -1, dtype=np.int64)
        if aside.any() and (~aside).sum() >= 2:
            keep = np.flatnonzero(~aside)
            labels[keep] = cluster_to_k(x[keep], self.n_themes, random_state=self.random_state, max_core=self.max_core)
        else:  # everything is clustered: no copy of x (233 MB for 100k hybrid vectors)
            labels[:] = cluster_to_k(x, self.n_themes, random_state=self.random_state, max_core=self.max_core)
        rest = np.flatnonzero(labels < 0)
        if len(rest) == len(x):  # nothing left to cluster
            labels[:] = 0
            rest = rest[:0]
        _, labels[labels >= 0] = np.unique(labels[labels >= 0], return_inverse=True)
        k = int(labels.max()) + 1
        # The rest counted as one more class (dropped): no copy of x's clustered rows.
        centroids = l2_normalize(class_sums(x, np.where(labels < 0, k, labels), k + 1)[:k])
        aside = np.zeros(len(x), dtype=bool)
        if len(rest) >= MIN_OTHER:
            labels[rest] = k
            centroids = np.vstack([centroids, l2_normalize(x[rest].mean(axis=0)[None, :])])
            aside[rest] = True
        elif len(rest):
            labels[rest] = np.argmax(x[rest] @ centroids.T, axis=1)
        return labels, centroids, aside

    def refit(
        self, texts: Sequence[str], previous: ThemeModel, ids: Sequence[Hashable] | None = None
    ) -> ThemeModel:
        """Same as ``fit(texts, ids, previous=previous)``."""
        return self.fit(texts, ids, previous=previous)

    def _tick(self, stage: str, t0: float) -> None:
        self.timings_[stage] = round(time.perf_counter() - t0, 3)

    # ------------------------------------------------------------------------------------- describe
    def _describe(self, x, labels, centroids, theme_ids, uniq_raw, inverse, previous, other):
        k = len(theme_ids)
        sims = np.einsum("ij,ij->i", x, centroids[labels])
        counts = np.bincount(inverse, minlength=len(uniq_raw))  # copies per distinct text
        sizes = np.bincount(labels, weights=counts, minlength=k).astype(int)
        cohesion = np.bincount(labels, weights=sims * counts, minlength=k) / np.maximum(sizes, 1)
        keywords = theme_keywords(labels, k, uniq_raw, self.n_keywords, self.random_state)
        first_index = np.full(len(uniq_raw), -1, dtype=np.int64)
        first_index[inverse[::-1]] = np.arange(len(inverse))[::-1]  # first original index of each text
        prev = {t.id: t for t in previous.themes_} if previous is not None else {}
        # Members by closeness to the centre (ties by text): representatives, and the texts names come from.
        central = [
            sorted(np.flatnonzero(labels == c).tolist(), key=lambda j: (-round(float(sims[j]), 5), uniq_raw[j]))
            for c in range(k)
        ]
        names = phrase_names(
            [[uniq_raw[j] for j in members[:NAME_SAMPLE]] for members in central],
            [prev[i].label if i in prev and not prev[i].renamed else None for i in theme_ids],
        )
        themes = []
        for c in range(k):
            rep = [int(first_index[j]) for j in central[c][: self.n_representative]]
            words = keywords[c]
            theme = Theme(
                id=int(theme_ids[c]),
                label=names[c] or ("، ".join(words[:3]) if words else ""),
                keywords=words,
                representative=rep,
                size=int(sizes[c]),
                quality=round(float(cohesion[c]), 4),
                representative_ids=[self.ids_[i] for i in rep] if self.ids_ is not None else [],
                other=bool(other[c]),
            )
            old = prev.get(theme.id)
            if old is not None:  # human edits carry over
                theme.pinned = old.pinned
                theme.merged_from = list(old.merged_from)
                if old.renamed:
                    theme.label, theme.renamed = old.label, True
            themes.append(theme)
        self.groups_ = build_groups(themes, centroids, central, uniq_raw, previous)
        return themes

    # ----------------------------------------------------------------------------------- assignment
    def assign(self, text: str) -> tuple[int | None, float]:
        """Nearest theme for one new text, or (None, score) below ``assign_threshold``; no re-fit."""
        return self.assign_many([text])[0]

    def assign_many(self, texts: Sequence[str]) -> list[tuple[int | None, float]]:
        self._check_fitted()
        live = [i for i, t in enumerate(self.themes_) if t.size > 0]
        if not texts:
            return []
        if not live:
            return [(None, 0.0)] * len(texts)
        x = self.vectorizer_.transform([normalize(t) for t in texts], list(texts))
        targets = [self.themes_[i].id for i in live] + [self.aliases_[a] for a in self.alias_order_]
        centroids = np.vstack(
            [self.centroids_[live], self.alias_centroids_.reshape(-1, self.centroids_.shape[1])]
        )
        sims = x @ centroids.T
        best = np.argmax(sims, axis=1)
        out = []
        for row, b in enumerate(best):
            score = float(sims[row, b])
            theme_id = targets[b] if score >= self.assign_threshold else None
            out.append((theme_id, round(score, 4)))
        return out

    # --------------------------------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "themes_"):
            raise RuntimeError("ThemeModel is not fitted; call fit(texts) first")

