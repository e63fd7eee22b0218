"""Feedback operations: submit, track, answer, change status, support, report, moderate.

Every query that an agency member makes goes through ``for_agency``, which scopes it to the
member's own agency: another agency's id answers "not found", never its data.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import audit
from voice.catalogue.models import Agency, Service
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.feedback.models import (
    Channel,
    Event,
    Feedback,
    FeedbackKind,
    IdempotencyKey,
    Moderation,
    Report,
    Response,
    Status,
    Support,
)
from voice.i18n import _, get_locale
from voice.ids import parse_id
from voice.text import clean_body, public_text, query_terms, search_text
from voice.themes.assign import schedule_sql as schedule_theme_sql

if TYPE_CHECKING:
    from voice.feedback.intake import IntakeQueue

log = logging.getLogger(__name__)

# Tracking codes are read aloud over the phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V, Q.
TRACKING_ALPHABET = "ACDEFHJKMNPRTWXY3479"
TRACKING_GROUPS = 3
TRACKING_GROUP_SIZE = 4
_ASCII_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

TRANSITIONS: dict[Status, set[Status]] = {
    Status.RECEIVED: {Status.IN_REVIEW, Status.IN_PROGRESS, Status.RESOLVED, Status.DECLINED},
    Status.IN_REVIEW: {Status.IN_PROGRESS, Status.RESOLVED, Status.DECLINED},
    Status.IN_PROGRESS: {Status.IN_REVIEW, Status.RESOLVED, Status.DECLINED},
    Status.RESOLVED: {Status.IN_PROGRESS},  # reopened
    Status.DECLINED: {Status.IN_REVIEW},  # reconsidered
}
MAX_ANSWER = 5000
MAX_REASON = 1000
BOARD_PAGE = 20


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
    compact = re.sub(r"[^0-9A-Za-z]", "", (raw or "").translate(_ASCII_DIGITS)).upper()
    size = TRACKING_GROUPS * TRACKING_GROUP_SIZE
    if len(compact) != size or any(c not in TRACKING_ALPHABET for c in compact):
        return None
    return "-".join(compact[i:i + TRACKING_GROUP_SIZE] for i in range(0, size, TRACKING_GROUP_SIZE))


def device_digest(device_id: str | None) -> str | None:
    return hashlib.sha256(device_id.encode()).hexdigest() if device_id else None


@dataclass
class Submission:
    """What someone sends, as raw strings from a form, JSON or Open311 — validated by ``submit``."""

    agency: str
    body: str
    kind: str = FeedbackKind.COMPLAINT
    submitter_kind: str = SubmitterKind.INDIVIDUAL
    service: str | None = None
    rating: Any = None
    contact_email: str | None = None
    publish: bool = False
    channel: Channel = Channel.WEB
    language: str = "ar"


@dataclass
class BoardFilters:
    agency: str | None = None
    service: str | None = None
    kind: str | None = None
    status: str | None = None
    theme: int | None = None
    q: str | None = None
    cursor: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class BoardPage:
    items: list[Feedback]
    next_cursor: str | None


@dataclass(frozen=True)
class _Intake:
    """A submission that passed every check that needs no database."""

    agency: str
    service: str | None
    kind: FeedbackKind
    submitter_kind: SubmitterKind
    channel: Channel
    body: str
    body_public: str
    search_text: str
    rating: int | None
    contact_email: str | None
    publish: bool
    language: str


@dataclass(frozen=True)
class Receipt:
    """What the submitter is told at once: the item's id, tracking code and status."""

    id: int
    tracking_code: str
    status: Status

    def answer(self) -> dict[str, Any]:
        return {"id": self.id, "tracking_code": self.tracking_code, "status": self.status.value}


@dataclass(frozen=True)
class IntakeRow:
    """One validated submission with what the statement needs besides it."""

    intake: _Intake
    code: str
    now: datetime
    user_id: int | None
    idempotency: tuple[str, str, str] | None = None  # scope, key, hash of the request body


@dataclass(frozen=True)
class Stored:
    """What the intake statement did with one row."""

    valid: bool  # the agency (and the service, if named) exist and are active
    claimed: bool  # the Idempotency-Key was free and is now this row's (False without a key)
    id: int | None  # the stored item; None when invalid or the key was claimed before


# The intake statement stores any number of submissions in one round trip: one row each, as arrays
# zipped by unnest. It is atomic on its own (it can run without BEGIN/COMMIT). Per row: an inactive or
# unknown agency, or a service that is not the agency's, stores nothing and claims no key; with an
# Idempotency-Key the item is stored only if this statement claimed the key (the key's stored answer
# names the item, so the id is drawn first). A publishing agency that reviews first gets the item as
# "pending"; the due date follows the agency's SLA; a "created" event is written and theme assignment is
# queued. Only constants are spliced into the text; every value is a bound parameter. Two rows with the
# same key must not share one execution (both would see the one claim): ``store_rows`` refuses that.
_INTAKE_COLUMNS = {
    "agency": "text", "service": "text", "code": "text", "kind": "text", "submitter_kind": "text",
    "channel": "text", "body": "text", "body_public": "text", "search_text": "text", "rating": "int",
    "contact_email": "text", "publish": "bool", "user_id": "bigint", "language": "text", "now": "timestamptz",
    "scope": "text", "key": "text", "hash": "text",
}
_STORE_ROWS = text(f"""
WITH input AS (
    SELECT * FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in _INTAKE_COLUMNS.items())})
        WITH ORDINALITY AS i({", ".join(_INTAKE_COLUMNS)}, ord)
), valid AS MATERIALIZED (
    SELECT i.ord, nextval('feedback_id_seq') AS id, t.* FROM input i
    CROSS JOIN LATERAL (
        SELECT a.id AS agency_id, a.sla_days, a.publish_after_review,
               (SELECT s.id FROM service s WHERE s.agency_id = a.id AND s.slug = i.service AND s.is_active)
                   AS service_id
        FROM agency a WHERE a.slug = i.agency AND a.is_active
    ) t
    WHERE i.service IS NULL OR t.service_id IS NOT NULL
), claim AS (
    INSERT INTO idempotency_key (scope, key, request_hash, status_code, response, created_at, updated_at)
    SELECT i.scope, i.key, i.hash, 201, jsonb_build_object('id', v.id, 'tracking_code', i.code,
           'status', '{Status.RECEIVED.value}'), i.now, i.now
    FROM input i JOIN valid v USING (ord) WHERE i.key IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_idempotency_scope_key DO NOTHING
    RETURNING scope, key
), item AS (
    INSERT INTO feedback (id, tracking_code, agency_id, service_id, kind, submitter_kind, channel, body,
                          body_public, search_text, rating, contact_email, publish, moderation, is_public, status,
                          user_id, supporters, due_at, language, created_at, updated_at)
    SELECT v.id, i.code, v.agency_id, v.service_id, i.kind, i.submitter_kind, i.channel, i.body,
           i.body_public, i.search_text, i.rating, i.contact_email, i.publish,
           CASE WHEN i.publish AND v.publish_after_review THEN '{Moderation.PENDING.value}'
                ELSE '{Moderation.VISIBLE.value}' END,
           i.publish AND NOT v.publish_after_review, '{Status.RECEIVED.value}', i.user_id, 0,
           i.now + make_interval(days => v.sla_days), i.language, i.now, i.now
    FROM input i JOIN valid v USING (ord)
    WHERE i.key IS NULL OR EXISTS (SELECT 1 FROM claim c WHERE c.scope = i.scope AND c.key = i.key)
    RETURNING id, agency_id, user_id, created_at
), created AS (
    INSERT INTO feedback_event (feedback_id, kind, to_status, agency_id, actor_id, public, created_at, updated_at)
    SELECT id, 'created', '{Status.RECEIVED.value}', agency_id, user_id, true, created_at, created_at FROM item
), item_agency AS (
    SELECT DISTINCT agency_id FROM item
), assignment AS ({schedule_theme_sql("item_agency", "feedback")}
)
SELECT v.id IS NOT NULL AS valid, c.key IS NOT NULL AS claimed, it.id
FROM input i
LEFT JOIN valid v USING (ord)
LEFT JOIN claim c ON c.scope = i.scope AND c.key = i.key
LEFT JOIN item it ON it.id = v.id
ORDER BY i.ord
""")  # noqa: S608


async def store_rows(connection: AsyncSession | AsyncConnection, rows: list[IntakeRow]) -> list[Stored]:
    """Run the intake statement for ``rows`` on a session or connection; one ``Stored`` per row, in order."""
    keys = [(r.idempotency[0], r.idempotency[1]) for r in rows if r.idempotency]
    if len(keys) != len(set(keys)):
        raise ValueError("two rows with the same Idempotency-Key in one intake statement")
    columns: dict[str, list[Any]] = {c: [] for c in _INTAKE_COLUMNS}
    for r in rows:
        i = r.intake
        scope, key, digest = r.idempotency or (None, None, None)
        for name, value in (
            ("agency", i.agency), ("service", i.service), ("code", r.code), ("kind", i.kind.value),
            ("submitter_kind", i.submitter_kind.value), ("channel", i.channel.value), ("body", i.body),
            ("body_public", i.body_public), ("search_text", i.search_text), ("rating", i.rating),
            ("contact_email", i.contact_email), ("publish", i.publish), ("user_id", r.user_id),
            ("language", i.language), ("now", r.now), ("scope", scope), ("key", key), ("hash", digest),
        ):
            columns[name].append(value)
    result = await connection.execute(_STORE_ROWS, columns)
    return [Stored(valid=row.valid, claimed=row.claimed, id=row.id) for row in result]


class FeedbackService:
    def __init__(self, session: AsyncSession | Callable[[], AsyncSession], intake: IntakeQueue | None = None) -> None:
        """``session`` may be a function that opens one: the web app's intake answers most submissions
        without a session of its own, and creating one per request cost about 4 % of its CPU."""
        self._session = session if isinstance(session, AsyncSession) else None
        self._open_session = None if isinstance(session, AsyncSession) else session
        self.intake = intake

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._open_session is not None
            self._session = self._open_session()
        return self._session

    # ----- intake ---------------------------------------------------------------------------

    async def receive(self, sub: Submission, user: User | None = None) -> Receipt:
        """Validate and store one item, with its history, public text, due date and theme queueing."""
        receipt = await self._store(self._validate(sub, user), user)
        assert receipt is not None
        return receipt

    async def submit(self, sub: Submission, user: User | None = None) -> Feedback:
        """``receive``, then the stored item with its agency and service (for pages and receipts)."""
        receipt = await self.receive(sub, user)
        item = await self.session.get(Feedback, receipt.id)
        assert item is not None
        return item

    async def submit_idempotent(self, sub: Submission, key: str, scope: str, payload: bytes,
                                user: User | None = None) -> tuple[int, dict[str, Any]]:
        """Submit once per Idempotency-Key: a retry gets the first answer, never a second record.

        The key is claimed in the same statement that stores the item; a concurrent request with the
        same key waits on the unique index until that statement's transaction ends, then finds the
        stored answer.
        """
        key = key.strip()
        if not 8 <= len(key) <= 200:
            raise ValidationFailed(_("The Idempotency-Key header must be 8 to 200 characters."), field="Idempotency-Key")
        digest = hashlib.sha256(payload).hexdigest()
        intake = self._validate(sub, user)
        receipt = await self._store(intake, user, idempotency=(scope, key, digest))
        if receipt is not None:
            return 201, receipt.answer()
        stored = await self.session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))
        if stored is None or stored.status_code == 0:
            raise Conflict(_("A request with this Idempotency-Key is still being processed. Retry shortly."))
        if stored.request_hash != digest:
            raise ValidationFailed(
                _("This Idempotency-Key was already used with a different request."), field="Idempotency-Key")
        return stored.status_code, stored.response

    def _validate(self, sub: Submission, user: User | None) -> _Intake:
        """Everything that can be checked without the database; the agency and service are checked by
        the statement that stores the item (see ``_store``)."""
        errors: dict[str, str] = {}
        agency = (sub.agency or "").strip()
        if not agency:
            errors["agency"] = _("Choose the agency the service belongs to.")
        try:
            kind = FeedbackKind(sub.kind)
        except ValueError:
            errors["kind"] = _("Choose a kind: complaint, suggestion, praise or question.")
        try:
            submitter_kind = SubmitterKind(sub.submitter_kind)
        except ValueError:
            errors["submitter_kind"] = _("Choose whether you write as an individual, a business or a government entity.")
        rating = _parse_rating(sub.rating, errors, "rating")
        body = ""
        try:
            body = clean_body(sub.body)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        email = None
        if sub.contact_email and sub.contact_email.strip():
            try:
                email = validate_email(sub.contact_email.strip(), check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                errors["contact_email"] = _("Enter a valid e-mail address, or leave it empty.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        public = public_text(body)
        return _Intake(
            agency=agency, service=(sub.service or "").strip() or None, kind=kind, submitter_kind=submitter_kind,
            channel=sub.channel, body=body, body_public=public, search_text=search_text(public), rating=rating,
            contact_email=email or (user.email if user else None), publish=bool(sub.publish),
            language=sub.language if sub.language in ("ar", "en") else "ar")

    async def _store(self, intake: _Intake, user: User | None,
                     idempotency: tuple[str, str, str] | None = None) -> Receipt | None:
        """Claim the Idempotency-Key (if any), check the agency and service, insert the item and its
        "created" event, queue theme assignment: one statement (see ``_STORE_ROWS``). None when the key
        was claimed before.

        In the web app the statement runs through the process's intake queue, which stores submissions
        that arrive together in one statement and one commit; elsewhere (CLI, demo data, tests of the
        service) it runs in this session's transaction.
        """
        row = IntakeRow(intake=intake, code=new_tracking_code(), now=datetime.now(UTC),
                        user_id=user.id if user else None, idempotency=idempotency)
        if self.intake is not None:
            stored = await self.intake.store(row)
        else:
            [stored] = await store_rows(self.session, [row])
        if idempotency is not None and stored.valid and not stored.claimed:
            return None
        if stored.id is None:  # nothing stored: say which of agency and service is wrong
            await self._catalogue_errors(intake)
        return Receipt(id=stored.id, tracking_code=row.code, status=Status.RECEIVED)

    async def _catalogue_errors(self, intake: _Intake) -> None:
        agency = await self.session.scalar(
            select(Agency).where(Agency.slug == intake.agency, Agency.is_active.is_(True)))
        if agency is None:
            raise ValidationFailed(_("Choose the agency the service belongs to."), field="agency")
        raise ValidationFailed(_("This e-service does not belong to the chosen agency."), field="service")

    # ----- reading --------------------------------------------------------------------------

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
        return list(events), list(answers)

    async def for_agency(self, user: User, feedback_id: int, *, lock: bool = False) -> Feedback:
        """An item of the member's own agency; anything else is 'not found' (and logged)."""
        stmt = select(Feedback).where(Feedback.id == feedback_id)
        if user.role is not Role.ADMIN:
            stmt = stmt.where(Feedback.agency_id == user.agency_id)
        if lock:
            stmt = stmt.with_for_update(of=Feedback)
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

    async def answer(self, user: User, feedback_id: int, body: str, public: bool) -> Response:
        item = await self.for_agency(user, feedback_id, lock=True)
        text = clean_body(body, field="body")
        if len(text) > MAX_ANSWER:
            raise ValidationFailed(_("Please keep it under %(n)s characters.", n=MAX_ANSWER), field="body")
        now = datetime.now(UTC)
        response = Response(feedback_id=item.id, agency_id=item.agency_id, author_id=user.id, body=text,
                            public=public)
        self.session.add(response)
        if item.first_response_at is None:
            item.first_response_at = now
        self.session.add(Event(feedback_id=item.id, kind="answer", actor_id=user.id, agency_id=item.agency_id,
                               public=True, note=None))
        await self.session.flush()
        await audit(self.session, "feedback.answer", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=item.agency_id, public=public)
        await self._notify(item, "answer", answer=text)
        return response

    async def change_status(self, user: User, feedback_id: int, to: str, reason: str | None = None) -> Feedback:
        item = await self.for_agency(user, feedback_id, lock=True)
        try:
            target = Status(to)
        except ValueError:
            raise ValidationFailed(_("Unknown status."), field="status") from None
        if target not in TRANSITIONS[item.status]:
            raise Conflict(_("This item cannot move from “%(a)s” to “%(b)s”.",
                             a=_status_label(item.status), b=_status_label(target)), field="status")
        reason = (reason or "").strip() or None
        if target is Status.DECLINED and not reason:
            raise ValidationFailed(_("Declining needs a reason the person can read."), field="reason")
        if reason and len(reason) > MAX_REASON:
            raise ValidationFailed(_("Please keep it under %(n)s characters.", n=MAX_REASON), field="reason")
        if reason:
            reason = clean_body(reason, field="reason")
        now = datetime.now(UTC)
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
        await self.session.flush()
        await audit(self.session, "feedback.status", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=item.agency_id, to=target.value)
        await self._notify(item, "status", reason=reason)
        return item

    async def _notify(self, item: Feedback, what: str, answer: str | None = None, reason: str | None = None) -> None:
        if not item.contact_email:
            return
        from voice.notifications.outbox import link, notify

        url = link(f"/track?code={item.tracking_code}")

        def body() -> str:
            if what == "answer":
                head = _("%(agency)s answered your feedback %(code)s:", agency=item.agency.name(get_locale()),
                         code=item.tracking_code)
                text = f"{head}\n\n{answer}"
            else:
                text = _("The status of your feedback %(code)s is now: %(status)s.",
                         code=item.tracking_code, status=_status_label(item.status))
                if reason:
                    text += "\n" + _("Reason: %(reason)s", reason=reason)
            return text + "\n\n" + _("Follow it here: %(link)s", link=url)

        await notify(self.session, item.contact_email, feedback_id=item.id, body=body,
                     subject=lambda: _("Update on your feedback %(code)s", code=item.tracking_code))

    # ----- the public acts ------------------------------------------------------------------

    async def rate_answer(self, raw_code: str, score: Any) -> Feedback:
        item = await self.by_tracking_code(raw_code)
        errors: dict[str, str] = {}
        value = _parse_rating(score, errors, "satisfaction")
        if errors or value is None:
            raise ValidationFailed(errors.get("satisfaction") or _("Choose a rating from 1 to 5."),
                                   field="satisfaction")
        if not item.status.is_closed:
            raise Conflict(_("You can rate the answer once your feedback is resolved."), field="satisfaction")
        item.satisfaction = value
        item.satisfaction_at = datetime.now(UTC)
        await self.session.flush()
        return item

    async def support(self, feedback_id: int, user: User | None, device_id: str | None) -> tuple[Feedback, bool]:
        """Add a "me too"; returns (item, whether it was new). One per person or per device."""
        item = await self._public_item(feedback_id)
        device = None if user else device_digest(device_id)
        if user is None and device is None:
            raise ValidationFailed(_("Your browser must accept cookies to support an item."))
        inserted = await self.session.scalar(
            insert(Support).values(feedback_id=item.id, user_id=user.id if user else None, device=device)
            .on_conflict_do_nothing().returning(Support.id))
        if inserted is not None:
            await self.session.execute(update(Feedback).where(Feedback.id == item.id)
                                       .values(supporters=Feedback.supporters + 1))
            await self.session.refresh(item, ["supporters"])
        return item, inserted is not None

    async def report(self, feedback_id: int, reason: str, user: User | None, device_id: str | None) -> Report:
        item = await self._public_item(feedback_id)
        text = (reason or "").strip()
        if not 3 <= len(text) <= MAX_REASON:
            raise ValidationFailed(_("Tell us briefly why (3 to 1000 characters)."), field="reason")
        text = clean_body(text, field="reason") if len(text) >= 5 else text
        report = Report(feedback_id=item.id, reason=text, reporter_id=user.id if user else None,
                        device=device_digest(device_id))
        self.session.add(report)
        await self.session.flush()
        return report

    async def _public_item(self, feedback_id: int) -> Feedback:
        item = await self.session.scalar(select(Feedback).where(Feedback.id == feedback_id, Feedback.is_public))
        if item is None:
            raise NotFound(_("This feedback is not on the public board."))
        return item

    # ----- moderation -----------------------------------------------------------------------

    async def moderate(self, user: User, feedback_id: int, action: str, reason: str | None) -> Feedback:
        """Hide or show an item on the board (platform admins), or approve one held for review (its agency)."""
        if action not in {"hide", "show", "approve"}:
            raise ValidationFailed(_("Unknown moderation action."), field="action")
        if action in {"hide", "show"} and user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators hide or restore items."))
        item = await (self.for_agency(user, feedback_id, lock=True) if action == "approve"
                      else self._locked(feedback_id))
        reason = (reason or "").strip() or None
        if action == "hide" and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        if action == "approve" and item.moderation is not Moderation.PENDING:
            # An agency approves what waits for its review; it never undoes a moderator's hiding.
            raise Conflict(_("Only items waiting for review can be approved."), field="action")
        item.moderation = Moderation.HIDDEN if action == "hide" else Moderation.VISIBLE
        item.moderation_reason = reason if action == "hide" else None
        item.is_public = item.publish and item.moderation is Moderation.VISIBLE
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

    async def open_reports(self, limit: int = 100) -> list[Report]:
        return list((await self.session.scalars(select(Report).where(Report.resolved.is_(False))
                                                .order_by(Report.created_at).limit(limit))).all())

    # ----- the public board -----------------------------------------------------------------

    async def board(self, filters: BoardFilters, limit: int = BOARD_PAGE) -> BoardPage:
        """Published items, newest first, paged by a keyset cursor so page 5,000 costs what page 1 does."""
        stmt: Select = select(Feedback).where(Feedback.is_public)
        if filters.agency:
            stmt = stmt.join(Agency, Agency.id == Feedback.agency_id).where(Agency.slug == filters.agency)
            if filters.service:
                stmt = stmt.join(Service, Service.id == Feedback.service_id).where(Service.slug == filters.service)
        if filters.kind in FeedbackKind._value2member_map_:
            stmt = stmt.where(Feedback.kind == FeedbackKind(filters.kind))
        if filters.status in Status._value2member_map_:
            stmt = stmt.where(Feedback.status == Status(filters.status))
        if filters.theme:
            stmt = stmt.where(Feedback.theme_id == filters.theme)
        if filters.q and (terms := query_terms(filters.q[:200])):
            stmt = stmt.where(Feedback.search_vector.op("@@")(func.plainto_tsquery("simple", terms)))
        position = _decode_cursor(filters.cursor)
        if position:
            # A row comparison, not "a < x OR (a = x AND b < y)": PostgreSQL turns it into an index
            # range on (created_at, id); the OR form filtered every newer row (2 s at 400k deep).
            stmt = stmt.where(tuple_(Feedback.created_at, Feedback.id) < tuple_(*position))
        rows = list((await self.session.scalars(
            stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit + 1))).all())
        more = len(rows) > limit
        items = rows[:limit]
        return BoardPage(items=items, next_cursor=_encode_cursor(items[-1]) if more and items else None)

    async def public_answers(self, ids: list[int]) -> dict[int, list[Response]]:
        if not ids:
            return {}
        rows = (await self.session.scalars(select(Response).where(
            Response.feedback_id.in_(ids), Response.public.is_(True)).order_by(Response.created_at))).all()
        out: dict[int, list[Response]] = {}
        for r in rows:
            out.setdefault(r.feedback_id, []).append(r)
        return out


def _parse_rating(value: Any, errors: dict[str, str], name: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    try:
        number = int(str(value).translate(_ASCII_DIGITS).strip())
    except (TypeError, ValueError):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    if not 1 <= number <= 5 or (isinstance(value, float) and not value.is_integer()):
        errors[name] = _("Choose a rating from 1 to 5.")
        return None
    return number


def _status_label(status: Status) -> str:
    from voice.labels import label

    return label(status)


def _encode_cursor(item: Feedback) -> str:
    return f"{item.created_at.isoformat()}~{item.id}"


def _decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """A cursor from the URL; anything malformed or out of range starts from the top instead."""
    if not raw:
        return None
    stamp, _sep, ident = raw.partition("~")
    number = parse_id(ident)
    try:
        moment = datetime.fromisoformat(stamp)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return (moment, number) if number is not None else None

