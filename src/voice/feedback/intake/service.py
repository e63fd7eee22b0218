"""Receiving feedback: check it, store it (through the process's intake queue in the web app), answer
with a receipt; once per Idempotency-Key for API clients that retry."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.catalogue.models import Agency
from voice.errors import Conflict, ValidationFailed
from voice.feedback.intake.queue import IntakeQueue
from voice.feedback.intake.statement import IntakeRow, store_rows
from voice.feedback.intake.submission import Intake, Submission, validate
from voice.feedback.models import Feedback, IdempotencyKey, Status
from voice.feedback.tracking import new_tracking_code
from voice.i18n import _

# The lengths of an Idempotency-Key (a UUID fits), counted without surrounding spaces.
IDEMPOTENCY_KEY_LENGTH = range(8, 201)


@dataclass(frozen=True)
class Receipt:
    """What the submitter is told at once: the item's id, tracking code and status."""

    id: int
    tracking_code: str
    status: Status

    def answer(self) -> dict[str, Any]:
        return {"id": self.id, "tracking_code": self.tracking_code, "status": self.status.value}


class IntakeService:
    """The one way feedback is received (form, JSON API, Open311, CLI, demo data, tests).

    Not a ``DomainService``, on purpose: in the web app it stores through the process's ``IntakeQueue``
    and most submissions need no session of their own (creating one per request cost about 4 % of the
    intake's CPU), so ``session`` may be a function that opens one on first use.
    """

    def __init__(self, session: AsyncSession | Callable[[], AsyncSession], queue: IntakeQueue | None = None) -> None:
        self._session = session if isinstance(session, AsyncSession) else None
        self._open_session = None if isinstance(session, AsyncSession) else session
        self.queue = queue

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._open_session is not None
            self._session = self._open_session()
        return self._session

    async def receive(self, sub: Submission, user: User | None = None) -> Receipt:
        """Validate and store one item, with its history, public text, due date and theme queueing."""
        receipt = await self._store(validate(sub, user), user)
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
        if len(key) not in IDEMPOTENCY_KEY_LENGTH:
            raise ValidationFailed(_("The Idempotency-Key header must be 8 to 200 characters."), field="Idempotency-Key")
        digest = hashlib.sha256(payload).hexdigest()
        receipt = await self._store(validate(sub, user), user, idempotency=(scope, key, digest))
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

    async def _store(self, intake: Intake, user: User | None,
                     idempotency: tuple[str, str, str] | None = None) -> Receipt | None:
        """Claim the Idempotency-Key (if any), check the agency and service, insert the item and its
        "created" event, queue theme assignment: one statement (voice.feedback.intake.statement). None
        when the key was claimed before.

        In the web app the statement runs through the process's intake queue, which stores submissions
        that arrive together in one statement and one commit; elsewhere (CLI, demo data, tests of the
        service) it runs in this session's transaction.
        """
        row = IntakeRow(intake=intake, code=new_tracking_code(), now=datetime.now(UTC),
                        user_id=user.id if user else None, idempotency=idempotency)
        if self.queue is not None:
            stored = await self.queue.store(row)
        else:
            [stored] = await store_rows(self.session, [row])
        if idempotency is not None and stored.valid and not stored.claimed:
            return None
        if stored.id is None:  # nothing stored: say which of agency and service is wrong
            await self._catalogue_errors(intake)
        return Receipt(id=stored.id, tracking_code=row.code, status=Status.RECEIVED)

    async def _catalogue_errors(self, intake: Intake) -> None:
        agency = await self.session.scalar(
            select(Agency).where(Agency.slug == intake.agency, Agency.is_active.is_(True)))
        if agency is None:
            raise ValidationFailed(_("Choose the agency the service belongs to."), field="agency")
        raise ValidationFailed(_("This e-service does not belong to the chosen agency."), field="service")
