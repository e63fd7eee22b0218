"""Ideas that already say what someone is typing: a TF-IDF index over listed ideas, one per process,
kept in step with the table."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea

SIMILAR_MIN_SCORE = 0.15


class SimilarIndex:
    """A TF-IDF index over listed ideas (``Idea.listed()``), refreshed when that set changes.

    The key is (count, max id, sum of ids, max created_at) of listed ideas; texts never change after
    submission. New ideas are added to the fitted index (cheap, no re-fit); removed ones are filtered
    out of results; a full fit happens when much changed, or when an id now names another idea (a
    restored or reset database).
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.index: Any = None
        self.stamps: dict[int, Any] = {}  # id -> created_at of what the index holds
        self.ids: set[int] = set()
        self.fitted_on = 0
        self.lock = asyncio.Lock()

    async def get(self, session: AsyncSession) -> tuple[Any, set[int]]:
        row = (await session.execute(select(func.count(Idea.id), func.max(Idea.id), func.sum(Idea.id),
                                            func.max(Idea.created_at)).where(Idea.listed()))).one()
        key = (int(row[0]), row[1], int(row[2] or 0), row[3])
        if key == self.key:
            return self.index, self.ids
        async with self.lock:
            if key == self.key:
                return self.index, self.ids
            current = dict((await session.execute(select(Idea.id, Idea.created_at).where(Idea.listed()))).all())
            new = [i for i in current if i not in self.stamps]
            same = all(self.stamps[i] == stamp for i, stamp in current.items() if i in self.stamps)
            removed = len(self.stamps) - (len(current) - len(new))
            if self.index is not None and same and len(new) + removed <= max(50, self.fitted_on // 5):
                if new:
                    rows = (await session.execute(select(Idea.id, Idea.title, Idea.description_public)
                                                  .where(Idea.id.in_(new)))).all()
                    self.index.add([r[0] for r in rows], [_text(r[1], r[2]) for r in rows])
                    self.stamps.update({i: current[i] for i in new})
            else:
                rows = (await session.execute(select(Idea.id, Idea.title, Idea.description_public)
                                              .where(Idea.listed()))).all()
                self.index = await asyncio.to_thread(_fit, [r[0] for r in rows],
                                                     [_text(r[1], r[2]) for r in rows])
                self.fitted_on = len(rows)
                self.stamps = dict(current)
            self.ids, self.key = set(current), key
            return self.index, self.ids


def _fit(ids: list[int], texts: list[str]) -> Any:
    from nlp.similarity import SimilarityIndex

    return SimilarityIndex("tfidf").fit(ids, texts) if ids else None


def _text(title: str, description: str) -> str:
    return f"{title}\n{description}"


similar_index = SimilarIndex()


async def similar_ideas(session: AsyncSession, text: str, k: int = 5, exclude: int | None = None,
                        min_score: float = SIMILAR_MIN_SCORE) -> list[tuple[Idea, float]]:
    """Listed ideas that say something close to ``text``, best first."""
    text = (text or "").strip()[:2000]
    if len(re.sub(r"\s+", "", text)) < 4:
        return []
    index, alive = await similar_index.get(session)
    if index is None:
        return []
    hits = [(i, s) for i, s in index.query(text, k=k + 5, min_score=min_score, exclude=exclude) if i in alive]
    hits = hits[:k]
    if not hits:
        return []
    ideas = {i.id: i for i in (await session.scalars(select(Idea).where(
        Idea.id.in_([h[0] for h in hits]), Idea.listed()))).unique().all()}
    return [(ideas[i], s) for i, s in hits if i in ideas]
