"""What themes are found in: each scope names a table, its public text and which rows count.

Slices register their scopes when their models are imported (feedback per agency, ideas for the whole
platform), so this module never imports them: dependencies point from the slices to themes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement


@dataclass(frozen=True)
class Source:
    # A mapped class with id, created_at and theme_id / theme_score columns (and agency_id when per agency).
    model: Any
    text: Callable[[], ColumnElement[str]]  # the public (redacted) text to cluster
    rows: Callable[[int | None], list[ColumnElement[bool]]]  # filters for an agency (None: all)
    # Themes per agency (feedback), or one set for the whole platform (ideas: agency None).
    per_agency: bool = True


SOURCES: dict[str, Source] = {}


def register(scope: str, source: Source) -> None:
    SOURCES[scope] = source


def source(scope: str) -> Source:
    try:
        return SOURCES[scope]
    except KeyError:
        raise ValueError(f"unknown theme scope {scope!r}") from None
