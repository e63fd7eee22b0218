"""Identity across re-fits: previous theme ids, human merges (aliases) and pins carried to a new fit."""

from __future__ import annotations

import numpy as np

from nlp.cluster import class_sums
from nlp.identity import match_centroids
from nlp.vectorize import l2_normalize


class RefitMixin:
    """The part of ThemeModel that maps a new clustering onto the previous model's themes."""

    def _identity(self, previous, labels, centroids, uniq_norm, uniq_raw):
        """Theme id per new cluster; pinned previous themes that found no match are re-created."""
        k = len(centroids)
        if previous is None or not previous.themes_:
            ids = list(range(self.next_id_, self.next_id_ + k))
            self.next_id_ += k
            return ids, None

        # Compare in the PREVIOUS model's space: the new space has a different SVD basis. Embeddings are
        # reused when both models use the same encoder, so a hybrid re-fit encodes each text once.
        old_vec = previous.vectorizer_
        reuse = getattr(self.vectorizer_, "last_embeddings_", None)
        if old_vec.method == "tfidf" or old_vec.encoder != self.vectorizer_.encoder:
            reuse = None
        x_old = old_vec.transform(uniq_norm, uniq_raw, embeddings=reuse)
        new_in_old = l2_normalize(class_sums(x_old, labels, k))

        # Candidates: every live previous theme, plus every theme someone merged away (its own centroid,
        # standing for the merge target), so a merged pair that re-appears as two clusters keeps one id.
        live = [i for i, t in enumerate(previous.themes_) if t.size > 0]
        alias_ids = previous.alias_order_
        old_centroids = np.vstack(
            [previous.centroids_[live], previous.alias_centroids_.reshape(-1, x_old.shape[1])]
        )
        old_ids = [previous.themes_[i].id for i in live] + [previous.aliases_[a] for a in alias_ids]
        pairs = match_centroids(old_centroids, new_in_old, self.match_threshold)
        ids: list[int | None] = [None] * k
        for new_i, old_pos in pairs.items():
            ids[new_i] = old_ids[old_pos]
        self.aliases_ = dict(previous.aliases_)
        # Alias centroids must be re-expressed in the NEW space for the next re-fit: the texts closest
        # to an alias (among all previous themes and aliases) stand for it.
        if alias_ids:
            nearest = np.argmax(x_old @ old_centroids.T, axis=1) - len(live)
            self._alias_members = {a: nearest == r for r, a in enumerate(alias_ids)}
        for new_i in range(k):
            if ids[new_i] is None:
                ids[new_i] = self.next_id_
                self.next_id_ += 1

        kept = set(ids)
        vanished = [t for t in previous.themes_ if t.id not in kept]
        self.retired_ids_ = [t.id for t in vanished if not t.pinned]
        pinned_lost = [t for t in vanished if t.pinned]
        self._pinned_ids = {t.id for t in pinned_lost}
        if not pinned_lost:
            return ids, None

        # A pinned theme survives: it takes back the texts the previous model assigns to it.
        pos = {t.id: i for i, t in enumerate(previous.themes_)}
        sims = x_old @ previous.centroids_.T
        best = np.argmax(sims, axis=1)
        labels = labels.copy()
        for t in pinned_lost:
            members = (best == pos[t.id]) & (sims[np.arange(len(best)), best] >= previous.assign_threshold)
            labels[members] = len(ids)
            ids.append(t.id)
        return ids, (labels, centroids, ids)

    def _collapse(self, x, labels, theme_ids):
        """Merge clusters that received the same theme id; drop empty ones; recompute centroids."""
        unique_ids = list(dict.fromkeys(theme_ids))
        remap = np.array([unique_ids.index(i) for i in theme_ids])
        new_labels = remap[labels]
        counts = np.bincount(new_labels, minlength=len(unique_ids))
        sums = class_sums(x, new_labels, len(unique_ids))
        # Pinned themes stay even when empty; other empty ones disappear.
        keep = [i for i in range(len(unique_ids)) if counts[i] > 0 or self._is_pinned_id(unique_ids[i])]
        order = {old: new for new, old in enumerate(keep)}
        new_labels = np.array([order[v] for v in new_labels], dtype=np.int64)
        return new_labels, l2_normalize(sums[keep]), [unique_ids[i] for i in keep]

    def _is_pinned_id(self, theme_id: int) -> bool:
        return theme_id in self._pinned_ids

    def _set_alias_centroids(self, x: np.ndarray, labels: np.ndarray) -> None:
        """Alias centroids in this model's space (an alias nothing resembles any more is dropped); the
        target theme's own centroid is re-estimated without the alias's texts."""
        order, rows = [], []
        position = {t.id: i for i, t in enumerate(self.themes_)}
        for alias, mask in self._alias_members.items():
            target = position.get(self.aliases_.get(alias))
            if target is None or not mask.any():
                continue
            order.append(alias)
            rows.append(x[mask].mean(axis=0))
            own = (labels == target) & ~mask
            if own.any():
                self.centroids_[target] = l2_normalize(x[own].mean(axis=0)[None, :])[0]
        self.alias_order_ = order
        self.alias_centroids_ = (
            l2_normalize(np.array(rows)) if rows else np.zeros((0, x.shape[1]), np.float32)
        )
        self._alias_members = {}

