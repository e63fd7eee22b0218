"""Saving and loading a ThemeModel (versioned blob, no pickle) and its JSON summary."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Self

import numpy as np

from nlp.serialize import pack, unpack
from nlp.themes.base import FORMAT, FORMAT_VERSION, Theme
from nlp.themes.groups import ThemeGroup
from nlp.vectorize import TextVectorizer


class StoreMixin:
    """to_bytes / from_bytes / summary of ThemeModel."""

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
            "groups_": [dataclasses.asdict(g) for g in self.groups_],
            "aliases_": [[k, v] for k, v in self.aliases_.items()],
            "alias_order_": self.alias_order_,
            "ids_": self.ids_,
            "extended_texts_": self.extended_texts_,
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
    def from_bytes(cls, blob: bytes) -> Self:
        """Load a model written by ``to_bytes``; raises nlp.ModelFormatError on wrong version or garbage."""
        meta, arrays = unpack(blob, FORMAT, FORMAT_VERSION)
        model = cls(**meta["params"])
        model.method_ = meta["method_"]
        model.next_id_ = meta["next_id_"]
        model.retired_ids_ = list(meta["retired_ids_"])
        model.themes_ = [Theme(**t) for t in meta["themes_"]]
        model.groups_ = [ThemeGroup(**g) for g in meta.get("groups_", [])]  # older blobs have none
        model.aliases_ = {int(k): int(v) for k, v in meta["aliases_"]}
        model.alias_order_ = list(meta["alias_order_"])
        model.ids_ = meta["ids_"]
        model.extended_texts_ = meta.get("extended_texts_", 0)  # older blobs: fitted, never extended
        model.centroids_ = arrays["centroids"]
        model.alias_centroids_ = arrays["alias_centroids"]
        model.labels_ = [None if v < 0 else int(v) for v in arrays["labels"].tolist()]
        model.timings_ = {}
        if meta["vectorizer"]:
            model.vectorizer_ = TextVectorizer.from_state(meta["vectorizer"], arrays)
        return model

    def summary(self) -> dict:
        """JSON-ready description of the themes (used by the CLI's OUT.themes.json)."""
        self._check_fitted()
        counts = Counter(self.labels_)
        return {
            "method": self.method_,
            "encoder": self.vectorizer_.encoder if self.method_ != "tfidf" else None,
            "n_themes": len(self.themes_),
            "n_texts": len(self.labels_),
            "unassigned": counts.get(None, 0),
            "themes": [dataclasses.asdict(t) for t in self.themes_],
            "n_groups": len(self.groups_),
            "groups": [dataclasses.asdict(g) for g in self.groups_],
            "retired_ids": self.retired_ids_,
        }
