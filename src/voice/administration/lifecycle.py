"""An account from sign-up to reset: citizens' sign-up (the same answer whether or not the address has
an account), e-mail verification, forgotten passwords, and invitations accepted."""

from __future__ import annotations

from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.models import Role, TokenPurpose, User
from voice.accounts.onetime import AccountTokenService
from voice.accounts.security import hash_password, verify_password
from voice.accounts.services import SignUp, UserService, audit, clean_display_name, normalize_email
from voice.administration import mails
from voice.db import DomainService
from voice.errors import ValidationFailed


class AccountLifecycleService(DomainService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    def _tokens(self) -> AccountTokenService:
        return AccountTokenService(session=self.session)

    async def sign_up(self, form: SignUp, ip: str | None = None) -> None:
        """Create a citizen account and mail a verification link; for an address that already has an
        account, mail its owner instead. The visitor sees the same answer either way (and the same cost:
        a password is hashed in both cases)."""
        users = UserService(session=self.session)
        email, fields = users.check_sign_up(form)
        password_hash = hash_password(form.password)
        existing = await users.by_email(email)
        if existing is not None:
            await mails.already_registered(self.session, existing)
            await audit(self.session, "account.signup_existing", actor=None, target_type="user",
                        target_id=existing.id, ip=ip)
            return
        user = User(email=email, password_hash=password_hash, role=Role.CITIZEN, **fields)
        self.session.add(user)
        await self.session.flush()
        await self.send_verification(user)
        await audit(self.session, "account.signup", actor=user, target_type="user", target_id=user.id, ip=ip)

    async def send_verification(self, user: User) -> None:
        await mails.verification(self.session, user, await self._tokens().issue(user, TokenPurpose.EMAIL_VERIFICATION))

    async def verify_email(self, token: str) -> User:
        user = await self._tokens().consume(token, TokenPurpose.EMAIL_VERIFICATION)
        user.email_verified_at = user.email_verified_at or datetime.now(UTC)
        await audit(self.session, "account.email_verified", actor=user, target_type="user", target_id=user.id)
        return user

    async def request_password_reset(self, email: str, ip: str | None = None) -> None:
        """Mail a reset link if an active account has this address; say nothing about it either way."""
        try:
            address = normalize_email(email)
        except ValidationFailed:
            return
        user = await self.session.scalar(select(User).where(User.email == address, User.is_active.is_(True)))
        if user is None:
            verify_password(None, "")  # the same cost as issuing a link, roughly
            return
        await mails.password_reset(self.session, user, await self._tokens().issue(user, TokenPurpose.PASSWORD_RESET))
        await audit(self.session, "account.reset_requested", actor=None, target_type="user", target_id=user.id, ip=ip)

    async def check_link(self, token: str, purpose: TokenPurpose) -> User:
        return (await self._tokens().check(token, purpose)).user

    async def reset_password(self, token: str, password: str, ip: str | None = None) -> User:
        """Set a new password from a reset link: single use; every session of the account ends."""
        row = await self._tokens().check(token, TokenPurpose.PASSWORD_RESET)
        await UserService(session=self.session).set_password(row.user, password)  # validates first
        user = await self._tokens().consume(token, TokenPurpose.PASSWORD_RESET)
        user.email_verified_at = user.email_verified_at or datetime.now(UTC)  # the link reached the mailbox
        await audit(self.session, "account.password_reset", actor=user, target_type="user", target_id=user.id, ip=ip)
        return user

    async def accept_invitation(self, token: str, password: str, display_name: str = "",
                                ip: str | None = None) -> User:
        row = await self._tokens().check(token, TokenPurpose.INVITATION)
        display = clean_display_name(display_name)
        await UserService(session=self.session).set_password(row.user, password)
        user = await self._tokens().consume(token, TokenPurpose.INVITATION)
        user.display_name = display or user.display_name
        user.email_verified_at = user.email_verified_at or datetime.now(UTC)
        await audit(self.session, "account.invitation_accepted", actor=user, target_type="user", target_id=user.id,
                    agency_id=user.agency_id, ip=ip)
        return user
