"""Sending e-mail: SMTP through aiosmtplib when SMTP_HOST is set, otherwise logged (development)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from voice.settings import Settings, get_settings

log = logging.getLogger("voice.mail")


async def send_email(to: str, subject: str, body: str, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)  # UTF-8 text; Arabic and English in one plain-text body
    if not settings.smtp_host:
        log.info("e-mail (not sent: no SMTP_HOST) to=%s subject=%s\n%s", to, subject, body)
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=30,
    )
