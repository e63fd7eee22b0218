"""Blind judging reaches beyond the award's pages: while an edition judges a blind branch, the ideas entered
there are shown on public surfaces without their author's name (``Idea.attribution_withheld``, which the
ideas pages read through ``Idea.byline``). Otherwise a judge could paste an entry's title into the public
idea search and read who shared it. The name returns when the edition's results are published."""

from __future__ import annotations

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Exists

from ideas.models import Idea
from voice.awards.models import Branch, Edition, EditionStatus, Entry


def judged_blind() -> Exists:
    """True for an idea entered in a blind branch of an edition that is judging now."""
    return exists(select(Entry.id).join(Branch, Branch.id == Entry.branch_id).join(
        Edition, Edition.id == Entry.edition_id).where(
        Entry.idea_id == Idea.id, Branch.blind.is_(True), Edition.status == EditionStatus.JUDGING))


async def refresh_attribution(session: AsyncSession) -> None:
    """Withhold or restore every idea's public attribution from the editions' current state, in one
    statement (called whenever an edition changes step or ideas are entered)."""
    await session.execute(
        update(Idea).where(Idea.attribution_withheld.is_distinct_from(judged_blind()))
        .values(attribution_withheld=judged_blind()).execution_options(synchronize_session=False))
    # Ideas already loaded in this session must not keep a stale flag.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Idea):
            session.expire(obj, ["attribution_withheld"])
