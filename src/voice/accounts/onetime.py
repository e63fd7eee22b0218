"""Links sent by e-mail (invitations, password resets, e-mail verification): single-use, expiring,
stored only as a SHA-256 digest, one live link per person and purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, update

from voice.accounts.models import AccountToken, TokenPurpose, User
from voice.accounts.security import one_time_token, token_digest
from voice.db import DomainService
from voice.errors import ValidationFailed
from voice.i18n import _

LIFETIME = {
    TokenPurpose.INVITATION: timedelta(days=7),
    TokenPurpose.PASSWORD_RESET: timedelta(hours=1),
    TokenPurpose.EMAIL_VERIFICATION: timedelta(days=2),
}


class AccountTokenService(DomainService[AccountToken]):
    class Repo(SQLAlchemyAsyncRepository[AccountToken]):
        model_type = AccountToken

    repository_type = Repo

    async def issue(self, user: User, purpose: TokenPurpose) -> str:
        """A new link token in clear text (the only time it exists); earlier unused ones stop working."""
        now = datetime.now(UTC)
        await self.session.execute(update(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
            .values(used_at=now))
        token = one_time_token()
        self.session.add(AccountToken(user_id=user.id, purpose=purpose, digest=token_digest(token),
                                      expires_at=now + LIFETIME[purpose]))
        await self.session.flush()
        return token

    async def check(self, token: str, purpose: TokenPurpose) -> AccountToken:
        """The live token row, or a clear refusal: unknown, already used, or expired."""
        row = await self.session.scalar(select(AccountToken).where(
            AccountToken.digest == token_digest(token[:200]), AccountToken.purpose == purpose))
        if row is None or not row.user.is_active:
            raise ValidationFailed(_("This link is not valid. Ask for a new one."), field="token")
        if row.used_at is not None:
            raise ValidationFailed(_("This link was already used. Ask for a new one."), field="token")
        if row.expires_at <= datetime.now(UTC):
            raise ValidationFailed(_("This link has expired. Ask for a new one."), field="token")
        return row

    async def consume(self, token: str, purpose: TokenPurpose) -> User:
        """Use the token once and return its person."""
        row = await self.check(token, purpose)
        # Conditional on still being unused: two simultaneous uses cannot both succeed.
        used = await self.session.execute(update(AccountToken).where(
            AccountToken.id == row.id, AccountToken.used_at.is_(None)).values(used_at=datetime.now(UTC)))
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise ValidationFailed(_("This link was already used. Ask for a new one."), field="token")
        return row.user
