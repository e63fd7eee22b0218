"""Human edits of a fitted ThemeModel: rename, pin, merge, split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlp.normalize import normalize
from nlp.themes.base import Theme
from nlp.themes.names import theme_keywords
from nlp.vectorize import l2_normalize


class EditsMixin:
    """Edits a person makes; re-fits keep them (see RefitMixin)."""

    def theme(self, theme_id: int) -> Theme:
        self._check_fitted()
        for t in self.themes_:
            if t.id == theme_id:
                return t
        raise KeyError(f"no theme with id {theme_id}")

    def rename(self, theme_id: int, label: str) -> None:
        """Set a human label; re-fits keep it while the theme persists."""
        t = self.theme(theme_id)
        t.label, t.renamed = label.strip(), True

    def pin(self, theme_id: int, pinned: bool = True) -> None:
        """A pinned theme is never retired by a re-fit."""
        self.theme(theme_id).pinned = pinned

    def merge(self, into: int, other: int) -> None:
        """Fold theme ``other`` into ``into``. Later re-fits fold clusters resembling ``other`` into it too."""
        if into == other:
            raise ValueError("cannot merge a theme into itself")
        a, b = self.theme(into), self.theme(other)
        ib = self.themes_.index(b)
        cb = self.centroids_[ib]
        # The target keeps its own centroid and the merged theme lives on as an alias centroid that
        # points to it: assignment and re-fits then see two compact shapes instead of one blurred mean.
        self.aliases_[b.id] = a.id
        for alias, target in list(self.aliases_.items()):  # aliases of b now point to a
            if target == b.id:
                self.aliases_[alias] = a.id
        self.alias_centroids_ = np.vstack([self.alias_centroids_.reshape(-1, len(cb)), cb[None, :]])
        self.alias_order_ = [*self.alias_order_, b.id]
        total = max(a.size + b.size, 1)
        a.quality = round((a.quality * a.size + b.quality * b.size) / total, 4)
        a.size += b.size
        a.keywords = list(dict.fromkeys(a.keywords + b.keywords))[: self.n_keywords]
        a.representative = (a.representative + b.representative)[: self.n_representative]
        a.merged_from = [*a.merged_from, b.id, *b.merged_from]
        a.pinned = a.pinned or b.pinned
        self.centroids_ = np.delete(self.centroids_, ib, axis=0)
        del self.themes_[ib]
        for group in self.groups_:  # b leaves its top-level theme; an emptied group goes
            if b.id in group.children:
                group.children.remove(b.id)
                group.size -= b.size
        self.groups_ = [g for g in self.groups_ if g.children]
        for group in self.groups_:
            if a.id in group.children:
                group.size = sum(t.size for t in self.themes_ if t.id in group.children)
        self.labels_ = [a.id if lab == b.id else lab for lab in self.labels_]

    def split(self, theme_id: int, texts: Sequence[str]) -> int:
        """Split a theme in two, given its member texts; returns the id of the new half.

        The half closer to the old centroid keeps the id (and a human label); the other half gets a
        new id, label and keywords. Both centroids are kept, so later re-fits and ``assign`` see two
        themes. The caller re-assigns the members (``assign_many``) to learn which half each joins.
        """
        from sklearn.cluster import KMeans

        theme = self.theme(theme_id)
        texts = [t for t in texts if isinstance(t, str) and t.strip()]
        if len({normalize(t) for t in texts}) < 2:
            raise ValueError("a theme needs at least two different texts to be split")
        idx = self.themes_.index(theme)
        x = self.vectorizer_.transform([normalize(t) for t in texts], list(texts))
        halves = KMeans(n_clusters=2, n_init=5, random_state=self.random_state).fit_predict(x)
        cents = l2_normalize(np.vstack([x[halves == h].mean(axis=0) for h in (0, 1)]))
        keep = int(np.argmax(cents @ self.centroids_[idx]))
        words = theme_keywords(halves, 2, list(texts), self.n_keywords, self.random_state)
        new_id = self.next_id_
        self.next_id_ += 1
        sizes = [int((halves == h).sum()) for h in (0, 1)]
        cohesion = [float(np.mean(x[halves == h] @ cents[h])) for h in (0, 1)]
        other = 1 - keep
        theme.size, theme.quality = sizes[keep], round(cohesion[keep], 4)
        if words[keep]:
            theme.keywords = words[keep]
            if not theme.renamed:
                theme.label = "، ".join(words[keep][:3])
        self.centroids_[idx] = cents[keep]
        self.themes_.append(Theme(
            id=new_id, label="، ".join(words[other][:3]) if words[other] else f"{theme.label} (2)",
            keywords=words[other], representative=[], size=sizes[other], quality=round(cohesion[other], 4)))
        self.centroids_ = np.vstack([self.centroids_, cents[other][None, :]])
        self.themes_[-1].parent, self.themes_[-1].other = theme.parent, theme.other
        for group in self.groups_:  # the new half sits beside the old one
            if theme.id in group.children:
                group.children.append(new_id)
        return new_id

