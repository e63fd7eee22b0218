"""Two-factor sign-in: TOTP (RFC 6238) enrolment with a QR code drawn on the server, one-time recovery
codes, wrong codes throttled, and devices remembered for at most 30 days by a signed cookie bound to
the person, the device and the account's session epoch."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, select, update

from voice.accounts import lockout
from voice.accounts.models import RecoveryCode, User
from voice.accounts.security import sign, token_digest, unsign
from voice.db import DomainService
from voice.errors import Conflict, ValidationFailed
from voice.i18n import _

ISSUER = "Voice"
RECOVERY_CODES = 10
REMEMBER_DEVICE = timedelta(days=30)
DEVICE_COOKIE = "voice_device"


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code: drawn here, so the secret never leaves the server."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2d27", light="#ffffff", title=ISSUER)


def _clean_code(code: str) -> str:
    return "".join(ch for ch in code if ch.isalnum()).lower()[:32]


def accept_code(user: User, secret: str, code: str, now: float | None = None) -> bool:
    """Whether ``code`` is the app's code for this or a neighbouring 30-second step (clock drift) and
    that step is later than the last one accepted: a code seen once, e.g. over a shoulder or by a
    phishing relay, cannot be used again (RFC 6238, section 5.2). Records the step it accepts."""
    cleaned = _clean_code(code)
    if len(cleaned) != 6 or not cleaned.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now or time.time(), UTC))
    for step in (current - 1, current, current + 1):
        if step > (user.totp_last_step or -1) and secrets.compare_digest(totp.generate_otp(step), cleaned):
            user.totp_last_step = step
            return True
    return False


def new_recovery_codes() -> list[str]:
    # Ten characters in two groups of five, from an alphabet without look-alikes (0/o, 1/l).
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["".join(secrets.choice(alphabet) for _ in range(5)) + "-" + "".join(
        secrets.choice(alphabet) for _ in range(5)) for _ in range(RECOVERY_CODES)]


def remember_device(secret_key: str, user: User, now: float | None = None) -> str:
    """The remembered-device cookie value: person, epoch, expiry and a device nonce, signed."""
    expires = int((now or time.time()) + REMEMBER_DEVICE.total_seconds())
    return sign(secret_key, f"{user.id}:{user.session_epoch}:{expires}:{secrets.token_urlsafe(12)}")


def device_remembered(secret_key: str, user: User, cookie: str | None, now: float | None = None) -> bool:
    payload = unsign(secret_key, cookie or "")
    if payload is None:
        return False
    try:
        uid, epoch, expires, _device = payload.split(":", 3)
        return int(uid) == user.id and int(epoch) == user.session_epoch and int(expires) > (now or time.time())
    except ValueError:
        return False


class TwoFactorService(DomainService[RecoveryCode]):
    class Repo(SQLAlchemyAsyncRepository[RecoveryCode]):
        model_type = RecoveryCode

    repository_type = Repo

    def secret_for_enrolment(self, user: User) -> str:
        """The secret being enrolled (a new one until enrolment is confirmed)."""
        if user.has_two_factor:
            raise Conflict(_("Two-factor sign-in is already on for this account."))
        if not user.totp_secret:
            user.totp_secret = pyotp.random_base32()
            user.totp_last_step = None
        return user.totp_secret

    def provisioning_uri(self, user: User) -> str:
        return pyotp.TOTP(self.secret_for_enrolment(user)).provisioning_uri(name=user.email, issuer_name=ISSUER)

    async def confirm_enrolment(self, user: User, code: str, client: str) -> list[str]:
        """Turn two-factor on once the person proves their app shows the right code; returns the new
        recovery codes, in clear text for the only time."""
        secret = self.secret_for_enrolment(user)
        key = lockout.second_factor_key(user.id)
        await lockout.check(self.session, key, client)
        if not accept_code(user, secret, code):
            await lockout.record_failure(self.session, key, client)
            raise ValidationFailed(_("This code is not correct. Enter the 6 digits your app shows now."),
                                   field="code")
        await lockout.clear(self.session, key, client)
        user.totp_enabled_at = datetime.now(UTC)
        return await self.replace_recovery_codes(user)

    async def replace_recovery_codes(self, user: User) -> list[str]:
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = new_recovery_codes()
        self.session.add_all([RecoveryCode(user_id=user.id, digest=token_digest(_clean_code(c))) for c in codes])
        await self.session.flush()
        return codes

    async def verify(self, user: User, code: str, client: str) -> str:
        """Check a sign-in code: the app's current code or an unused recovery code (which is then spent).
        Returns which one was used; wrong codes are throttled like passwords."""
        key = lockout.second_factor_key(user.id)
        await lockout.check(self.session, key, client)
        cleaned = _clean_code(code)
        if user.totp_secret and accept_code(user, user.totp_secret, cleaned):
            await lockout.clear(self.session, key, client)
            return "totp"
        spent = await self.session.execute(update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.digest == token_digest(cleaned),
            RecoveryCode.used_at.is_(None)).values(used_at=datetime.now(UTC)))
        if spent.rowcount == 1:  # type: ignore[attr-defined]
            await lockout.clear(self.session, key, client)
            return "recovery_code"
        await lockout.record_failure(self.session, key, client)
        raise ValidationFailed(_("This code is not correct. Enter the 6 digits your app shows now."), field="code")

    async def recovery_codes_left(self, user: User) -> int:
        return len((await self.session.scalars(select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))).all())

    async def turn_off(self, user: User) -> None:
        """Remove the second factor (the person must enrol again at their next sign-in if required)."""
        user.totp_secret = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.session_epoch += 1  # remembered devices stop counting
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
