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
# Families of scopes with one theme set per record (a consultation's comments): the scope is
# "<prefix>_<record id>" (at most 16 characters, an identifier) and the family makes its Source.
FAMILIES: dict[str, Callable[[int], Source]] = {}
# For the nightly refresh: a family's records that have texts, as a select of rows
# (record id, agency id, time of the newest text); a family without one is refreshed on request only.
FAMILY_RECORDS: dict[str, Callable[[], Any]] = {}


def register(scope: str, source: Source) -> None:
    SOURCES[scope] = source


def register_family(prefix: str, make: Callable[[int], Source], records: Callable[[], Any] | None = None) -> None:
    if not prefix.isidentifier() or "_" in prefix:
        raise ValueError(f"bad scope family prefix {prefix!r}")
    FAMILIES[prefix] = make
    if records is not None:
        FAMILY_RECORDS[prefix] = records


def family_scope(prefix: str, record_id: int) -> str:
    """The scope of one record's themes, such as "cons_12" for consultation 12."""
    return f"{prefix}_{int(record_id)}"


def source(scope: str) -> Source:
    found = SOURCES.get(scope)
    if found is not None:
        return found
    prefix, _sep, tail = scope.partition("_")
    if prefix in FAMILIES and tail.isdigit():
        return FAMILIES[prefix](int(tail))
    raise ValueError(f"unknown theme scope {scope!r}")
