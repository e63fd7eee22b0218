"""Moderation of the public board: reports from visitors, hiding and restoring items (platform
administrators), approving items held for the agency's review."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, update

from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Event, Feedback, Moderation, Report
from voice.feedback.rules import on_board
from voice.i18n import _

ACTIONS = ("hide", "show", "approve")


class ModerationService(DomainService[Report]):
    class Repo(SQLAlchemyAsyncRepository[Report]):
        model_type = Report

    repository_type = Repo

    async def open_reports(self, limit: int = 100) -> list[Report]:
        return list((await self.session.scalars(select(Report).where(Report.resolved.is_(False))
                                                .order_by(Report.created_at).limit(limit))).all())

    async def moderate(self, user: User, feedback_id: int, action: str, reason: str | None) -> Feedback:
        """Hide or show an item on the board (platform admins), or approve one held for review (its agency)."""
        if action not in ACTIONS:
            raise ValidationFailed(_("Unknown moderation action."), field="action")
        if action in {"hide", "show"} and user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators hide or restore items."))
        item = await (LifecycleService(session=self.session).for_agency(user, feedback_id, lock=True)
                      if action == "approve" else self._locked(feedback_id))
        reason = (reason or "").strip() or None
        if action == "hide" and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        if action == "approve" and item.moderation is not Moderation.PENDING:
            # An agency approves what waits for its review; it never undoes a moderator's hiding.
            raise Conflict(_("Only items waiting for review can be approved."), field="action")
        item.moderation = Moderation.HIDDEN if action == "hide" else Moderation.VISIBLE
        item.moderation_reason = reason if action == "hide" else None
        item.is_public = on_board(item.publish, item.moderation)
        self.session.add(Event(feedback_id=item.id, kind="moderation", actor_id=user.id, agency_id=item.agency_id,
                               note=f"{action}: {reason}" if reason else action, public=False))
        if action in {"hide", "show"}:
            await self.session.execute(update(Report).where(Report.feedback_id == item.id).values(resolved=True))
        await audit(self.session, f"feedback.{action}", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=item.agency_id, reason=reason)
        await self.session.flush()
        return item

    async def _locked(self, feedback_id: int) -> Feedback:
        item = await self.session.scalar(select(Feedback).where(Feedback.id == feedback_id).with_for_update(of=Feedback))
        if item is None:
            raise NotFound(_("No such feedback."))
        return item
