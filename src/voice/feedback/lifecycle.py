"""An item's life in its agency's hands: reading it (scoped to the member's agency), answering it,
moving its status, and telling the submitter by e-mail.

This is the one life-cycle service: the agency pages, the agency API and the workspace's bulk actions
all answer and move items through it, so the transition check and the row lock hold for every caller.
Every read goes through ``for_agency``: another agency's id answers "not found", never its data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.feedback.models import Event, Feedback, Response, Status
from voice.i18n import _, get_locale, ngettext
from voice.labels import label
from voice.notifications.outbox import link, notify
from voice.text import clean_body

log = logging.getLogger(__name__)

TRANSITIONS: dict[Status, set[Status]] = {
    Status.RECEIVED: {Status.IN_REVIEW, Status.IN_PROGRESS, Status.RESOLVED, Status.DECLINED},
    Status.IN_REVIEW: {Status.IN_PROGRESS, Status.RESOLVED, Status.DECLINED},
    Status.IN_PROGRESS: {Status.IN_REVIEW, Status.RESOLVED, Status.DECLINED},
    Status.RESOLVED: {Status.IN_PROGRESS},  # reopened
    Status.DECLINED: {Status.IN_REVIEW},  # reconsidered
}
MAX_ANSWER = 5000
MAX_REASON = 1000


def next_statuses(*statuses: Status) -> list[Status]:
    """Where an item in any of ``statuses`` may move, in the order the statuses are declared."""
    return sorted(set().union(*(TRANSITIONS[s] for s in statuses)), key=list(Status).index)


class LifecycleService(DomainService[Feedback]):
    class Repo(SQLAlchemyAsyncRepository[Feedback]):
        model_type = Feedback

    repository_type = Repo

    # ----- reading, as a member of the agency -----------------------------------------------

    async def for_agency(self, user: User, feedback_id: int, *, lock: bool = False) -> Feedback:
        """An item of the member's own agency; anything else is 'not found' (and logged). ``lock`` takes
        the row lock that every change of the item holds until the transaction ends."""
        stmt = select(Feedback).where(Feedback.id == feedback_id)
        if user.role is not Role.ADMIN:
            stmt = stmt.where(Feedback.agency_id == user.agency_id)
        if lock:
            # Re-read under the lock: a copy loaded earlier in the session (a bulk action's list) may be stale.
            stmt = stmt.with_for_update(of=Feedback).execution_options(populate_existing=True)
        item = await self.session.scalar(stmt)
        if item is None:
            log.warning("feedback %s refused to user %s (agency %s)", feedback_id, user.id, user.agency_id)
            raise NotFound(_("No such feedback in your agency."))
        return item

    async def agency_history(self, item: Feedback) -> tuple[list[Event], list[Response]]:
        events = (await self.session.scalars(select(Event).where(Event.feedback_id == item.id)
                                             .order_by(Event.created_at, Event.id))).all()
        answers = (await self.session.scalars(select(Response).where(Response.feedback_id == item.id)
                                              .order_by(Response.created_at, Response.id))).all()
        return list(events), list(answers)

    async def agency_recent(self, user: User, limit: int = 50) -> list[Feedback]:
        stmt = select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
        if user.role is not Role.ADMIN:
            stmt = stmt.where(Feedback.agency_id == user.agency_id)
        return list((await self.session.scalars(stmt)).all())

    # ----- the agency acts ------------------------------------------------------------------

    async def answer(self, user: User, feedback_id: int, body: str, public: bool = True, *,
                     close: bool = False, bulk_answer_id: int | None = None) -> Response:
        """Answer the item, and with ``close`` resolve it too (one e-mail: the answer); a received item that is
        answered without closing moves to in progress. Refused as a whole, before anything is written, when
        the item may not move to resolved."""
        item = await self.for_agency(user, feedback_id, lock=True)
        text = clean_body(body, field="body")
        if len(text) > MAX_ANSWER:
            raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", MAX_ANSWER), field="body")
        if close:
            self._check_move(item, Status.RESOLVED)
        now = datetime.now(UTC)
        response = Response(feedback_id=item.id, agency_id=item.agency_id, author_id=user.id, body=text,
                            public=public, bulk_answer_id=bulk_answer_id)
        self.session.add(response)
        if item.first_response_at is None:
            item.first_response_at = now
        self.session.add(Event(feedback_id=item.id, kind="answer", actor_id=user.id, agency_id=item.agency_id,
                               public=True, note=None))
        if close:
            self._move(item, user, Status.RESOLVED, None, now)
        elif item.status is Status.RECEIVED:  # answered: the person sees it is being handled
            self._move(item, user, Status.IN_PROGRESS, None, now)
        await self.session.flush()
        await audit(self.session, "feedback.answer", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=item.agency_id, public=public, close=close or None)
        await self.notify_submitter(item, answer=text)
        return response

    async def change_status(self, user: User, feedback_id: int, to: str, reason: str | None = None) -> Feedback:
        item = await self.for_agency(user, feedback_id, lock=True)
        try:
            target = Status(to)
        except ValueError:
            raise ValidationFailed(_("Unknown status."), field="status") from None
        self._check_move(item, target)
        reason = (reason or "").strip() or None
        if target is Status.DECLINED and not reason:
            raise ValidationFailed(_("Declining needs a reason the person can read."), field="reason")
        if reason and len(reason) > MAX_REASON:
            raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", MAX_REASON), field="reason")
        if reason:
            reason = clean_body(reason, field="reason")
        self._move(item, user, target, reason, datetime.now(UTC))
        await self.session.flush()
        await audit(self.session, "feedback.status", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=item.agency_id, to=target.value)
        await self.notify_submitter(item, reason=reason)
        return item

    @staticmethod
    def _check_move(item: Feedback, target: Status) -> None:
        if target not in TRANSITIONS[item.status]:
            raise Conflict(_("This item cannot move from “%(a)s” to “%(b)s”.",
                             a=label(item.status), b=label(target)), field="status")

    def _move(self, item: Feedback, user: User, target: Status, reason: str | None, now: datetime) -> None:
        previous = item.status
        item.status = target
        if target.is_closed:
            item.resolved_at = now
            # A reasoned decline is an answer: it starts the response clock too.
            if item.first_response_at is None and reason:
                item.first_response_at = now
        else:
            item.resolved_at = None
        self.session.add(Event(feedback_id=item.id, kind="status", from_status=previous.value,
                               to_status=target.value, actor_id=user.id, agency_id=item.agency_id, note=reason))

    # ----- telling the submitter ------------------------------------------------------------

    async def notify_submitter(self, item: Feedback, *, answer: str | None = None, reason: str | None = None) -> None:
        """E-mail the submitter (when they left an address) the agency's ``answer``, or else the item's
        new status with the ``reason`` given; in both languages, through the notification outbox."""
        if not item.contact_email:
            return
        url = link(f"/track?code={item.tracking_code}")

        def body() -> str:
            if answer is not None:
                head = _("%(agency)s answered your feedback %(code)s:", agency=item.agency.name(get_locale()),
                         code=item.tracking_code)
                text = f"{head}\n\n{answer}"
            else:
                text = _("The status of your feedback %(code)s is now: %(status)s.",
                         code=item.tracking_code, status=label(item.status))
                if reason:
                    text += "\n" + _("Reason: %(reason)s", reason=reason)
            return text + "\n\n" + _("Follow it here: %(link)s", link=url)

        await notify(self.session, item.contact_email, feedback_id=item.id, body=body,
                     subject=lambda: _("Update on your feedback %(code)s", code=item.tracking_code))
