"""Tracking codes, and what their holder can do with one: follow the item and rate the answer."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.services import ascii_digits, normalize_email
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.feedback.intake.submission import parse_rating
from voice.feedback.models import Event, Feedback, Response, Status
from voice.feedback.rules import due_at
from voice.i18n import _, get_locale
from voice.notifications.outbox import link, notify
from voice.text import clean_body, public_text

# Tracking codes are read aloud over the phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V, Q.
TRACKING_ALPHABET = "ACDEFHJKMNPRTWXY3479"
TRACKING_GROUPS = 3
TRACKING_GROUP_SIZE = 4


def new_tracking_code() -> str:
    # One draw from the OS's CSPRNG, written in base 20 (one call instead of twelve).
    n = secrets.randbelow(len(TRACKING_ALPHABET) ** (TRACKING_GROUPS * TRACKING_GROUP_SIZE))
    chars = []
    while len(chars) < TRACKING_GROUPS * TRACKING_GROUP_SIZE:
        n, digit = divmod(n, len(TRACKING_ALPHABET))
        chars.append(TRACKING_ALPHABET[digit])
    return "-".join("".join(chars[i:i + TRACKING_GROUP_SIZE])
                    for i in range(0, len(chars), TRACKING_GROUP_SIZE))


def normalize_tracking_code(raw: str) -> str | None:
    """Accept what people type: any case, spaces or no dashes, Arabic-Indic digits."""
    compact = re.sub(r"[^0-9A-Za-z]", "", ascii_digits(raw or "")).upper()
    size = TRACKING_GROUPS * TRACKING_GROUP_SIZE
    if len(compact) != size or any(c not in TRACKING_ALPHABET for c in compact):
        return None
    return "-".join(compact[i:i + TRACKING_GROUP_SIZE] for i in range(0, size, TRACKING_GROUP_SIZE))


class TrackingService(DomainService[Feedback]):
    """The submitter's side, by tracking code: the code is their key to the item and its private answers."""

    class Repo(SQLAlchemyAsyncRepository[Feedback]):
        model_type = Feedback

    repository_type = Repo

    async def by_tracking_code(self, raw: str) -> Feedback:
        code = normalize_tracking_code(raw)
        item = await self.session.scalar(select(Feedback).where(Feedback.tracking_code == code)) if code else None
        if item is None:
            raise NotFound(_("No feedback has this tracking code. Check it and try again."), field="code")
        return item

    async def public_history(self, item: Feedback) -> tuple[list[Event], list[Response]]:
        """What the submitter may see: public events, and every answer (private ones are for them)."""
        events = list((await self.session.scalars(select(Event).where(
            Event.feedback_id == item.id, Event.public.is_(True)).order_by(Event.created_at, Event.id))).all())
        for event in events:  # staff may quote an ID or a phone number in a reason
            if event.note:
                self.session.expunge(event)
                event.note = public_text(event.note)
        answers = (await self.session.scalars(select(Response).where(
            Response.feedback_id == item.id).order_by(Response.created_at, Response.id))).all()
        return events, list(answers)

    async def rate_answer(self, raw_code: str, score: Any) -> Feedback:
        item = await self.by_tracking_code(raw_code)
        errors: dict[str, str] = {}
        value = parse_rating(score, errors, "satisfaction")
        if errors or value is None:
            raise ValidationFailed(errors.get("satisfaction") or _("Choose a rating from 1 to 5."),
                                   field="satisfaction")
        if not item.status.is_closed:
            raise Conflict(_("You can rate the answer once your feedback is resolved."), field="satisfaction")
        item.satisfaction = value
        item.satisfaction_at = datetime.now(UTC)
        await self.session.flush()
        return item

    # ----- the person's side of the conversation ------------------------------------------------

    async def email_code(self, raw_code: str, email: str) -> Feedback:
        """Send the tracking code and the link to follow it to an address the person gives."""
        item = await self.by_tracking_code(raw_code)
        address = normalize_email(email or "")
        url = link(f"/track/{item.tracking_code}")
        await notify(self.session, address, feedback_id=item.id,
                     subject=lambda: _("Your tracking code %(code)s", code=item.tracking_code),
                     body=lambda: _("Your feedback to %(agency)s has the tracking code %(code)s.\nFollow it here: "
                                    "%(link)s", agency=item.agency.name(get_locale()), code=item.tracking_code,
                                    link=url))
        return item

    async def reply(self, raw_code: str, body: str) -> Feedback:
        """The person writes back after an answer: it joins the item's history, which the agency reads."""
        item = await self.by_tracking_code(raw_code)
        if not await self._answered(item):
            raise Conflict(_("You can reply once the agency has answered."), field="body")
        text = clean_body(body or "", field="body")
        self.session.add(Event(feedback_id=item.id, kind="reply", agency_id=item.agency_id, public=True, note=text))
        await self.session.flush()
        return item

    async def was_it_fixed(self, raw_code: str, fixed: str, body: str | None = None) -> Feedback:
        """After resolution the person says whether it was really fixed. "no" reopens the item: it is open
        again (in progress), owes a new answer within the agency's SLA from now (a new due date) and no longer
        counts as resolved in the agency's figures; "yes" is recorded as a confirmation."""
        item = await self.by_tracking_code(raw_code)
        if item.status is not Status.RESOLVED:
            raise Conflict(_("You can say whether it was fixed once your feedback is resolved."), field="fixed")
        if fixed not in ("yes", "no"):
            raise ValidationFailed(_("Choose yes or no."), field="fixed")
        text = clean_body(body, field="body") if (body or "").strip() else None
        if fixed == "yes":
            self.session.add(Event(feedback_id=item.id, kind="confirmed", agency_id=item.agency_id, public=True,
                                   note=text))
        else:
            now = datetime.now(UTC)
            self.session.add(Event(feedback_id=item.id, kind="reopened", from_status=item.status.value,
                                   to_status=Status.IN_PROGRESS.value, agency_id=item.agency_id, public=True,
                                   note=text))
            item.status, item.resolved_at = Status.IN_PROGRESS, None
            item.due_at = due_at(now, item.agency.sla_for(item.kind.value, item.service))
        await self.session.flush()
        return item

    async def _answered(self, item: Feedback) -> bool:
        return item.first_response_at is not None or await self.session.scalar(
            select(Response.id).where(Response.feedback_id == item.id).limit(1)) is not None
