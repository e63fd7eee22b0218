"""Put a new text into its agency's current theme on arrival, in milliseconds, without re-fitting."""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.themes.models import Theme, ThemeModel

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _load(model_id: int, blob: bytes):  # noqa: ANN202  (nlp.ThemeModel; imported lazily)
    from nlp import ThemeModel as FittedModel

    return FittedModel.from_bytes(blob)


async def assign(session: AsyncSession, agency_id: int, text: str, scope: str = "feedback") -> tuple[int | None, float | None]:
    """(theme row id, similarity) for ``text``, or (None, None) when there is no model or no close theme."""
    row = await session.execute(
        select(ThemeModel.id, ThemeModel.blob).where(
            ThemeModel.agency_id == agency_id, ThemeModel.scope == scope, ThemeModel.is_current.is_(True))
    )
    current = row.first()
    if current is None:
        return None, None
    try:
        key, score = _load(current.id, current.blob).assign(text)
    except Exception:  # a broken model must never stop feedback from being received
        log.exception("theme assignment failed for agency %s", agency_id)
        return None, None
    if key is None:
        return None, score
    theme_id = await session.scalar(select(Theme.id).where(
        Theme.agency_id == agency_id, Theme.scope == scope, Theme.key == str(key), Theme.retired.is_(False)))
    return theme_id, score
