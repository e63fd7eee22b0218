"""Queueing e-mails in the caller's transaction, composing them in both languages, and the job that
sends them.

Every message the platform sends is written by ``notify``: Arabic first, English below it, one
subject line for both. Callers hand it functions that produce the subject and body in the current
language, so each text is written once and translated by the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from voice.i18n import use_locale
from voice.jobs import current_settings, defer, job_session, jobs, resumable
from voice.mail import send_email
from voice.notifications.models import Notification

log = logging.getLogger(__name__)

LANGUAGES = ("ar", "en")  # the order the parts appear in every message
PART_SEPARATOR = "\n\n— — —\n\n"


def link(path: str) -> str:
    """An absolute link to a page of the site, for e-mails."""
    return current_settings().base_url.rstrip("/") + path


async def notify(session: AsyncSession, to: str, *, subject: Callable[[], str], body: Callable[[], str],
                 feedback_id: int | None = None) -> Notification:
    """Compose the message in every language (``subject`` and ``body`` are called once per language,
    inside it) and queue it in the session's transaction."""
    subjects: list[str] = []
    parts: list[str] = []
    for lang in LANGUAGES:
        with use_locale(lang):
            subjects.append(subject())
            parts.append(body())
    return await queue_email(session, to, " | ".join(dict.fromkeys(subjects)), PART_SEPARATOR.join(parts),
                             feedback_id=feedback_id)


async def queue_email(session: AsyncSession, to: str, subject: str, body: str,
                      feedback_id: int | None = None) -> Notification:
    """Record the e-mail and enqueue its sending, both in the caller's transaction."""
    note = Notification(to_address=to, subject=subject[:300], body=body, feedback_id=feedback_id)
    session.add(note)
    await session.flush()
    await defer(session, send_notification, notification_id=note.id)
    return note


@jobs.task(name="voice.send_notification", queue="mail",
           retry=resumable(8, exponential_wait=5))
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
