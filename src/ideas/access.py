"""Who may see an idea, and the look-ups every ideas service uses to enforce it (one answer, "not found",
for what does not exist and what the viewer may not see)."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea
from voice.accounts.models import User
from voice.errors import Conflict, NotFound
from voice.i18n import _


class IdeaRepository(SQLAlchemyAsyncRepository[Idea]):
    """The repository of every ideas service (they all work on ideas)."""

    model_type = Idea


def is_moderator(user: User | None) -> bool:
    """Platform administrators moderate ideas; they also see held and hidden ones."""
    return user is not None and user.is_admin


def may_see_unpublished(idea: Idea, viewer: User | None) -> bool:
    """Held or hidden ideas stay visible to their author and to moderators."""
    return is_moderator(viewer) or (viewer is not None and viewer.id == idea.author_id)


def not_found() -> NotFound:
    return NotFound(_("We could not find this idea."))


async def visible_idea(session: AsyncSession, idea_id: int, viewer: User | None) -> Idea:
    """An idea the viewer may see: public ones for everyone; held or hidden ones for their author and
    moderators only."""
    idea = await session.scalar(select(Idea).where(Idea.id == idea_id))
    if idea is None or not (idea.is_public or may_see_unpublished(idea, viewer)):
        raise not_found()
    return idea


async def open_idea(session: AsyncSession, idea_id: int) -> Idea:
    """A public idea people may still support and discuss (not merged into another)."""
    idea = await session.scalar(select(Idea).where(Idea.id == idea_id, Idea.is_public.is_(True)))
    if idea is None:
        raise not_found()
    if idea.merged_into_id:
        raise Conflict(_("This idea was merged into another one: support and discuss it there."))
    return idea


async def locked_idea(session: AsyncSession, idea_id: int) -> Idea:
    """The idea, row-locked for a change of status, moderation or merge."""
    idea = await session.scalar(select(Idea).where(Idea.id == idea_id).with_for_update(of=Idea))
    if idea is None:
        raise not_found()
    return idea
