"""Moderating ideas (platform administrators): the queue of held ideas and open reports, publishing or
hiding an idea with a reason, hiding or showing a comment."""

from __future__ import annotations

from sqlalchemy import select, update

from ideas.access import IdeaRepository, is_moderator, locked_idea
from ideas.models import Idea, IdeaComment, IdeaModeration, IdeaReport, IdeaStatusEvent
from ideas.texts import MAX_REASON, optional_text
from voice.accounts.models import User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import Forbidden, NotFound, ValidationFailed
from voice.i18n import _

ACTIONS = ("approve", "hide", "show")


def _moderator(user: User) -> None:
    if not is_moderator(user):
        raise Forbidden(_("Only platform administrators moderate ideas."))


class IdeaModerationService(DomainService[Idea]):
    repository_type = IdeaRepository

    async def moderate(self, user: User, idea_id: int, action: str, reason: str | None = None) -> Idea:
        """Approve a held idea, hide one (with a reason) or show it again."""
        _moderator(user)
        if action not in ACTIONS:
            raise ValidationFailed(_("Unknown moderation action."), field="action")
        idea = await locked_idea(self.session, idea_id)
        reason = optional_text(reason, "reason", MAX_REASON)
        if action == "hide" and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        idea.moderation = IdeaModeration.HIDDEN if action == "hide" else IdeaModeration.VISIBLE
        idea.moderation_reason = reason if action == "hide" else None
        idea.is_public = idea.moderation is IdeaModeration.VISIBLE
        if action != "hide":
            idea.held_for_review = False
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="moderation", actor_id=user.id, public=False,
                                         note=f"{action}: {reason}" if reason else action))
        await self.session.execute(update(IdeaReport).where(IdeaReport.idea_id == idea.id,
                                                            IdeaReport.comment_id.is_(None)).values(resolved=True))
        await self.session.flush()
        await audit(self.session, f"idea.{action}", actor=user, target_type="idea", target_id=idea.id,
                    reason=reason)
        return idea

    async def moderate_comment(self, user: User, comment_id: int, hide: bool, reason: str | None = None) -> IdeaComment:
        _moderator(user)
        comment = await self.session.get(IdeaComment, comment_id)
        if comment is None:
            raise NotFound(_("We could not find this comment."))
        reason = optional_text(reason, "reason", MAX_REASON)
        if hide and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        comment.hidden, comment.hidden_reason = hide, reason if hide else None
        await self.session.execute(update(IdeaReport).where(IdeaReport.comment_id == comment.id)
                                   .values(resolved=True))
        await self.session.flush()
        await audit(self.session, "idea.comment_hide" if hide else "idea.comment_show", actor=user,
                    target_type="idea_comment", target_id=comment.id, reason=reason)
        return comment

    async def queue(self, limit: int = 100) -> tuple[list[Idea], list[IdeaReport]]:
        """Ideas waiting for a moderator (held by the filter or pre-moderated) and open reports."""
        pending = list((await self.session.scalars(select(Idea).where(
            Idea.moderation == IdeaModeration.PENDING).order_by(Idea.created_at).limit(limit))).unique().all())
        reports = list((await self.session.scalars(select(IdeaReport).where(IdeaReport.resolved.is_(False))
                                                   .order_by(IdeaReport.created_at).limit(limit))).all())
        return pending, reports
