"""An idea's life after submission: the status steps (who may take which), adoption by an agency,
merging duplicates, and the e-mail to followers when an idea moves."""

from __future__ import annotations

from sqlalchemy import BigInteger, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from ideas.access import IdeaRepository, locked_idea, not_found
from ideas.models import Idea, IdeaFollower, IdeaStatus, IdeaStatusEvent, IdeaVote
from ideas.texts import MAX_ANSWER, MAX_REASON, optional_text
from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, ValidationFailed
from voice.i18n import _, get_locale
from voice.labels import label
from voice.notifications.outbox import link, notify

TRANSITIONS: dict[IdeaStatus, set[IdeaStatus]] = {
    IdeaStatus.SUBMITTED: {IdeaStatus.UNDER_REVIEW, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.UNDER_REVIEW: {IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.ACCEPTED_FOR_EVALUATION: {IdeaStatus.SHORTLISTED, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.SHORTLISTED: {IdeaStatus.WINNER, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.WINNER: {IdeaStatus.ADOPTED},
    IdeaStatus.ADOPTED: {IdeaStatus.IMPLEMENTED},
    IdeaStatus.IMPLEMENTED: set(),
    IdeaStatus.DECLINED: {IdeaStatus.UNDER_REVIEW},  # reconsidered
    IdeaStatus.WITHDRAWN: set(),  # the author's choice (ideas.authoring)
}
# What agency staff may do themselves: take an idea up, and report it done.
AGENCY_STATUSES = {IdeaStatus.ADOPTED, IdeaStatus.IMPLEMENTED}


def may_set_status(user: User, idea: Idea, target: IdeaStatus) -> bool:
    """Admins take any step; agency staff adopt (ideas for their agency or for none) and report the
    implementation of what their agency adopted."""
    if user.role is Role.ADMIN:
        return True
    if not user.role.is_agency or target not in AGENCY_STATUSES or user.agency_id is None:
        return False
    if target is IdeaStatus.ADOPTED:
        return idea.agency_id in (None, user.agency_id)
    return idea.adopted_by_agency_id == user.agency_id


def next_statuses(viewer: User | None, idea: Idea) -> list[IdeaStatus]:
    """The steps this viewer may take from the idea's status, in the order of the lifecycle."""
    if viewer is None:
        return []
    return [s for s in sorted(TRANSITIONS[idea.status], key=list(IdeaStatus).index)
            if may_set_status(viewer, idea, s)]


class IdeaLifecycleService(DomainService[Idea]):
    repository_type = IdeaRepository

    async def change_status(self, user: User, idea_id: int, to: str, reason: str | None = None,
                            answer: str | None = None) -> Idea:
        """Move an idea along its lifecycle (admins; agency staff adopt and report implementation)."""
        idea = await locked_idea(self.session, idea_id)
        if not user.is_admin and not idea.is_public:
            # Held or hidden ideas are for moderators; agencies see (and adopt) only public ones.
            raise not_found()
        try:
            target = IdeaStatus(to)
        except ValueError:
            raise ValidationFailed(_("Unknown status."), field="status") from None
        if not may_set_status(user, idea, target):
            raise Forbidden(_("You cannot change the status of this idea."))
        if target not in TRANSITIONS[idea.status]:
            raise Conflict(_("This idea cannot move from “%(a)s” to “%(b)s”.",
                             a=label(idea.status), b=label(target)), field="status")
        reason = optional_text(reason, "reason", MAX_REASON)
        answer = optional_text(answer, "answer", MAX_ANSWER)
        if target is IdeaStatus.DECLINED and not reason:
            raise ValidationFailed(_("Declining needs a reason the author can read."), field="reason")
        previous = idea.status
        idea.status = target
        idea.decline_reason = reason if target is IdeaStatus.DECLINED else None
        agency_id = user.agency_id if user.role.is_agency else None
        if target is IdeaStatus.ADOPTED:
            if agency_id is None and idea.agency_id is None:
                raise ValidationFailed(_("Choose the agency that adopts the idea."), field="status")
            idea.adopted_by_agency_id = agency_id or idea.agency_id
            agency_id = idea.adopted_by_agency_id
        if answer:
            idea.answer = answer
            idea.answer_agency_id = agency_id or idea.adopted_by_agency_id or idea.agency_id
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="status", from_status=previous.value,
                                         to_status=target.value, actor_id=user.id, agency_id=agency_id,
                                         note=reason, answer=answer))
        await self.session.flush()
        await audit(self.session, "idea.status", actor=user, target_type="idea", target_id=idea.id,
                    agency_id=agency_id, to=target.value)
        await self.session.refresh(idea)
        await self._notify_followers(idea, reason=reason, answer=answer)
        return idea

    async def adopt(self, user: User, idea_id: int, answer: str | None = None) -> Idea:
        """The member's agency takes the idea up: it then shows "adopted by <agency>"."""
        return await self.change_status(user, idea_id, IdeaStatus.ADOPTED.value, answer=answer)

    async def merge(self, user: User, duplicate_id: int, original_id: int) -> Idea:
        """Fold a duplicate into the original: votes (each person once) and followers move; the duplicate
        stays readable with a link to the original."""
        if user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators merge ideas."))
        if duplicate_id == original_id:
            raise ValidationFailed(_("An idea cannot be merged into itself."), field="original")
        duplicate = await locked_idea(self.session, duplicate_id)
        original = await locked_idea(self.session, original_id)
        if original.merged_into_id:
            raise Conflict(_("The original was itself merged; merge into the idea it points to."), field="original")
        if duplicate.merged_into_id:
            raise Conflict(_("This idea is already merged."), field="original")
        await self.session.execute(insert(IdeaVote).from_select(
            ["idea_id", "user_id"], select(literal(original.id, BigInteger), IdeaVote.user_id)
            .where(IdeaVote.idea_id == duplicate.id)).on_conflict_do_nothing())
        await self.session.execute(insert(IdeaFollower).from_select(
            ["idea_id", "user_id"], select(literal(original.id, BigInteger), IdeaFollower.user_id)
            .where(IdeaFollower.idea_id == duplicate.id)).on_conflict_do_nothing())
        await self.session.execute(delete(IdeaVote).where(IdeaVote.idea_id == duplicate.id))
        count = await self.session.scalar(select(func.count()).select_from(IdeaVote)
                                          .where(IdeaVote.idea_id == original.id))
        original.votes = int(count or 0)
        duplicate.votes = 0
        duplicate.merged_into_id = original.id
        self.session.add(IdeaStatusEvent(idea_id=duplicate.id, kind="merge", actor_id=user.id,
                                         note=f"#{original.id}"))
        self.session.add(IdeaStatusEvent(idea_id=original.id, kind="merge", actor_id=user.id,
                                         note=f"#{duplicate.id}"))
        await self.session.flush()
        await audit(self.session, "idea.merge", actor=user, target_type="idea", target_id=duplicate.id,
                    into=original.id)
        return original

    async def _notify_followers(self, idea: Idea, reason: str | None, answer: str | None) -> None:
        emails = (await self.session.scalars(select(User.email).join(
            IdeaFollower, IdeaFollower.user_id == User.id).where(
            IdeaFollower.idea_id == idea.id, User.is_active.is_(True)))).all()
        url = link(f"/ideas/{idea.id}")

        def body() -> str:
            text = _("The idea “%(title)s” is now: %(status)s.", title=idea.title, status=label(idea.status))
            if idea.status is IdeaStatus.ADOPTED and idea.adopted_by is not None:
                text += "\n" + _("Adopted by %(agency)s.", agency=idea.adopted_by.name(get_locale()))
            if reason:
                text += "\n" + _("Reason: %(reason)s", reason=reason)
            if answer:
                text += "\n\n" + answer
            return text + "\n\n" + _("Follow it here: %(link)s", link=url)

        for email in sorted(set(emails)):
            await notify(self.session, email, subject=lambda: _("Update on an idea you follow"), body=body)
