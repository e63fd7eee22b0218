"""Incremental refresh: add new texts to a fitted model without clustering the texts it already holds.

A full re-fit clusters every text again (seconds to minutes at 10k-100k texts) although a day's new
texts are a few percent of them and mostly belong to themes that exist. ``extend`` costs the new texts:
each joins the theme whose centroid is nearest (as ``assign`` does); those that fit no theme are
clustered among themselves, and a group of them that holds together becomes a new theme (the way a new
issue surfaces between two full re-fits). Theme ids, names, staff edits and every earlier text's theme
stay as they were. The drift this allows is bounded by the caller: ``extended_texts_`` counts the texts
added since the last full fit, and a full re-fit resets it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from nlp.cluster import cluster_vectors
from nlp.normalize import normalize
from nlp.themes.base import Progress, Theme
from nlp.themes.groups import ThemeGroup
from nlp.themes.names import theme_keywords
from nlp.themes.phrases import phrase_names
from nlp.vectorize import l2_normalize

# A new theme needs this many texts that fit no existing theme and resemble each other; fewer stay
# without a theme until more like them arrive (they are considered again at the next extend).
MIN_NEW_THEME = 5
# A new text joins its nearest theme when it is at least this share of the theme's cohesion (the mean
# similarity of its texts to its centre) close to it; texts of the theme itself fall below that rarely
# (about 1 in 20 on tests/nlp/corpus.py), texts of a topic the model never saw mostly do.
OUTLIER_SHARE = 0.75


class ExtendMixin:
    """The part of ThemeModel that adds texts to a fitted model (see the module docstring)."""

    extended_texts_: int = 0

    def extend(
        self,
        texts: Sequence[str],
        ids: Sequence[Hashable],
        *,
        progress: Progress | None = None,
    ) -> tuple[list[Hashable], list[int | None]]:
        """Add the texts among ``texts`` (aligned with ``ids``) whose id the model does not hold yet, and
        those it holds without a theme; the model changes in place. Returns the ids considered and the
        theme id each gets (None: none fits). Ids the model holds that are absent from ``ids`` are
        forgotten."""
        self._check_fitted()
        if self.ids_ is None:
            raise ValueError("extend needs a model fitted with ids")
        if len(ids) != len(texts):
            raise ValueError("ids and texts must have the same length")
        report = progress or (lambda stage, done, total: None)
        held = dict(zip(self.ids_, self.labels_, strict=True))
        todo = [i for i, key in enumerate(ids) if held.get(key) is None]
        report("normalize", 0, len(todo))
        raw = [texts[i] if isinstance(texts[i], str) else "" for i in todo]
        norm = [normalize(t) for t in raw]
        recorded: list[int | None] = [None] * len(todo)
        given: list[int | None] = [None] * len(todo)
        live = [i for i, t in enumerate(self.themes_) if t.size > 0]
        if todo and live:
            report("vectorize", 0, len(todo))
            x = self.vectorizer_.transform(norm, raw)
            report("cluster", 0, 1)
            recorded, given = self._join_or_found(x, live, raw, [ids[i] for i in todo])
        report("label", 1, 1)
        self.ids_ = list(ids)
        self.labels_ = [held.get(key) for key in ids]
        for n, i in enumerate(todo):
            self.labels_[i] = recorded[n]
        size = {t.id: t.size for t in self.themes_}
        for group in self.groups_:
            group.size = sum(size.get(c, 0) for c in group.children)
        self.extended_texts_ = self.extended_texts_ + len(todo)
        self.retired_ids_ = []
        return [ids[i] for i in todo], given

    def _join_or_found(self, x: np.ndarray, live: list[int], raw: list[str], ids: list[Hashable]
                       ) -> tuple[list[int | None], list[int | None]]:
        """(theme id the model records, theme id the text gets) per row of x.

        A text as close to its nearest theme (or merged-away alias: its target) as that theme's own texts
        typically are joins it. The others are outliers, clustered among themselves: a group of at least
        MIN_NEW_THEME that holds together as tightly as the existing themes do, and whose centre matches
        no existing theme (the re-fit's identity rule, ``match_threshold``), becomes a new theme. Then
        every text goes to its nearest theme, new ones included, above ``assign_threshold`` (as
        ``assign`` would); an outlier that found no new theme is recorded as waiting, so the next extend
        considers it again with the texts that arrive meanwhile: an issue that trickles in surfaces once
        enough of it has arrived."""
        dim = self.centroids_.shape[1]
        targets = [self.themes_[i].id for i in live] + [self.aliases_[a] for a in self.alias_order_]
        centroids = np.vstack([self.centroids_[live], self.alias_centroids_.reshape(-1, dim)])
        position = {t.id: i for i, t in enumerate(self.themes_)}
        quality = np.array([self.themes_[position[t]].quality for t in targets])
        sims = x @ centroids.T
        best = np.argmax(sims, axis=1)
        outlier = sims[np.arange(len(x)), best] < np.maximum(self.assign_threshold, OUTLIER_SHARE * quality[best])
        rest = np.flatnonzero(outlier)
        founded: list[int] = []
        if len(rest) >= MIN_NEW_THEME:
            # As tight as the loosest theme the model has (a mix of stray texts rarely is).
            tight = min((t.quality for t in self.themes_ if t.size > 0 and not t.other), default=1.0)
            for members in self._new_groups(x[rest], tight):
                rows = rest[members]
                centre = l2_normalize(x[rows].mean(axis=0)[None, :])[0]
                if float(np.max(centroids @ centre)) >= self.match_threshold:
                    continue  # a variant of a theme the model has: its texts join it below
                founded.append(self._found(x[rows], [raw[r] for r in rows], [ids[r] for r in rows]))
        if founded:
            rows_of = [position.setdefault(f, len(position)) for f in founded]
            targets += founded
            for _ in range(2):  # the new themes' centres from all the texts nearest to them, then again
                sims = x @ np.vstack([centroids, self.centroids_[rows_of]]).T
                best = np.argmax(sims, axis=1)
                for n, index in enumerate(rows_of):
                    near = best == len(centroids) + n
                    if near.any():
                        self.centroids_[index] = l2_normalize(x[near].mean(axis=0)[None, :])[0]
            sims = x @ np.vstack([centroids, self.centroids_[rows_of]]).T
            best = np.argmax(sims, axis=1)
        score = sims[np.arange(len(x)), best]
        given: list[int | None] = [targets[b] if v >= self.assign_threshold else None
                                   for b, v in zip(best, score, strict=True)]
        recorded = [g if not o or g in founded else None for o, g in zip(outlier, given, strict=True)]
        for theme_id in {t for t in recorded if t is not None}:
            rows = [r for r, t in enumerate(recorded) if t == theme_id]
            if theme_id in founded:
                self.themes_[position[theme_id]].size = len(rows)
            else:
                self._grow(position[theme_id], x[rows])
        return recorded, given

    def _grow(self, index: int, x: np.ndarray) -> None:
        """Add member vectors to a theme: size, and the centroid moved as the mean of all members would
        move (the old members' sum is estimated from the centroid, size and cohesion)."""
        theme = self.themes_[index]
        weight = max(theme.size, 1) * max(theme.quality, 1e-3)
        self.centroids_[index] = l2_normalize((self.centroids_[index] * weight + x.sum(axis=0))[None, :])[0]
        theme.size += len(x)

    def _new_groups(self, x: np.ndarray, tight: float) -> list[np.ndarray]:
        """Row groups of outliers that form a theme: at least MIN_NEW_THEME members each closer to the
        group's centre than ``assign_threshold``, on average at least ``tight`` close."""
        labels, centroids = cluster_vectors(x, None, random_state=self.random_state, max_core=self.max_core)
        groups = []
        for c in range(len(centroids)):
            members = np.flatnonzero(labels == c)
            members = members[x[members] @ centroids[c] >= self.assign_threshold]
            if len(members) >= MIN_NEW_THEME and float(np.mean(x[members] @ centroids[c])) >= tight:
                groups.append(members)
        return groups

    def _found(self, x: np.ndarray, raw: list[str], ids: list[Hashable]) -> int:
        """A new theme for these member vectors and texts, named from its texts, under the nearest
        top-level theme."""
        centroid = l2_normalize(x.mean(axis=0)[None, :])
        sims = x @ centroid[0]
        central = np.argsort(-sims, kind="stable")
        taken = {t.label for t in self.themes_}
        [name] = phrase_names([[raw[j] for j in central[:200]]])
        [words] = theme_keywords(np.zeros(len(raw), dtype=np.int64), 1, raw, self.n_keywords, self.random_state)
        if not name or name in taken:
            name = "، ".join(words[:3]) if words else name
        theme = Theme(id=self.next_id_, label=name, keywords=words, representative=[], size=len(x),
                      quality=round(float(sims.mean()), 4),
                      representative_ids=[ids[j] for j in central[: self.n_representative]])
        self.next_id_ += 1
        nearest = int(np.argmax(self.centroids_ @ centroid[0])) if len(self.centroids_) else None
        self.themes_.append(theme)
        self.centroids_ = np.vstack([self.centroids_, centroid]).astype(np.float32)
        parent = self.themes_[nearest].parent if nearest is not None else None
        group = next((g for g in self.groups_ if g.id == parent), None)
        if group is None or group.other:  # a top-level theme of its own, as a fit makes for a lone theme
            group = ThemeGroup(id=theme.id, label=name)
            self.groups_.append(group)
        group.children.append(theme.id)
        theme.parent = group.id
        return theme.id

    def grown_since_fit(self, n_new: int) -> float:
        """Share of the texts that ``extend`` would have added since the last full fit, with ``n_new`` more."""
        held = len(self.ids_ or []) or 1
        return (self.extended_texts_ + n_new) / held
