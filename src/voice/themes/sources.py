"""What themes are found in: each scope names a table, its public text and which rows count.

The feedback scope is registered here; the ideas package registers its own on import, so this
module never imports ideas (dependencies point from ideas to voice, not back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement


@dataclass(frozen=True)
class Source:
    model: Any  # a mapped class with id, created_at and theme_id / theme_score columns
    text: Callable[[], ColumnElement[str]]  # the public (redacted) text to cluster
    rows: Callable[[int | None], list[ColumnElement[bool]]]  # filters for an agency (None: all)


SOURCES: dict[str, Source] = {}


def register(scope: str, source: Source) -> None:
    SOURCES[scope] = source


def source(scope: str) -> Source:
    try:
        return SOURCES[scope]
    except KeyError:
        raise ValueError(f"unknown theme scope {scope!r}") from None


def _feedback() -> Source:
    from voice.feedback.models import Feedback

    return Source(model=Feedback, text=lambda: Feedback.body_public,
                  rows=lambda agency_id: [Feedback.agency_id == agency_id])


register("feedback", _feedback())
