"""Notifications: an outbox row written with the change, and the job that e-mails it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from advanced_alchemy.types import DateTimeUTC
from procrastinate import RetryStrategy
from sqlalchemy import ForeignKey, Integer, String, Text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from voice.db import Base
from voice.jobs import current_settings, defer, job_session, jobs
from voice.mail import send_email

log = logging.getLogger(__name__)


class Notification(Base):
    """An e-mail to send (a transactional outbox): written with the change, sent by a job."""

    __tablename__ = "notification"

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The record the message is about, for the history view (feedback today; ideas later).
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)



async def queue_email(session: AsyncSession, to: str, subject: str, body: str,
                      feedback_id: int | None = None) -> Notification:
    """Record the e-mail and enqueue its sending, both in the caller's transaction."""
    note = Notification(to_address=to, subject=subject[:300], body=body, feedback_id=feedback_id)
    session.add(note)
    await session.flush()
    await defer(session, send_notification, notification_id=note.id)
    return note


@jobs.task(name="voice.send_notification", queue="mail",
           retry=RetryStrategy(max_attempts=8, exponential_wait=5))
async def send_notification(notification_id: int) -> None:
    async with job_session() as session:
        note = await session.get(Notification, notification_id)
        if note is None or note.sent_at is not None:
            return  # deleted, or already sent by an earlier attempt
        to, subject, body = note.to_address, note.subject, note.body
    try:
        await send_email(to, subject, body, current_settings())
    except Exception as exc:
        async with job_session() as session:
            await session.execute(update(Notification).where(Notification.id == notification_id).values(
                attempts=Notification.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]))
        raise  # procrastinate retries with exponential back-off
    async with job_session() as session:
        await session.execute(update(Notification).where(Notification.id == notification_id).values(
            attempts=Notification.attempts + 1, sent_at=datetime.now(UTC), last_error=None))
