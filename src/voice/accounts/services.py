"""Account operations shared by the web layer, the API and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import ApiToken, AuditEvent, Role, SubmitterKind, User
from voice.accounts.security import (
    hash_password,
    needs_rehash,
    new_api_token,
    token_digest,
    verify_password,
)
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import DomainError, ValidationFailed
from voice.i18n import _

PASSWORD_MIN = 12
PASSWORD_MAX = 128
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def ascii_digits(value: str) -> str:
    return value.translate(_DIGITS)


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email") from exc


def check_password(password: str, email: str = "") -> None:
    """ASVS-style rules: length over composition, and not the obvious choices."""
    if len(password) < PASSWORD_MIN:
        raise ValidationFailed(
            _("The password must be at least %(n)s characters.", n=PASSWORD_MIN), field="password"
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(
            _("The password must be at most %(n)s characters.", n=PASSWORD_MAX), field="password"
        )
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if len(set(password)) < 4 or (local and local in lowered) or lowered in _COMMON:
        raise ValidationFailed(_("This password is too easy to guess."), field="password")


_COMMON = {
    "123456789012", "password1234", "qwertyuiop12", "passwordpassword", "1234567890123",
    "aaaaaaaaaaaa", "abcdefghijkl", "iloveyou1234", "adminadmin12", "welcome12345",
}


@dataclass
class SignUp:
    email: str
    password: str
    full_name: str
    kind: str = SubmitterKind.INDIVIDUAL
    cr_number: str | None = None
    organisation: str | None = None
    locale: str = "ar"


class UserService(DomainService[User]):
    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def by_email(self, email: str) -> User | None:
        return await self.repository.get_one_or_none(User.email == email.strip().lower())

    async def team(self, agency_id: int) -> list[User]:
        """An agency's active people, by name."""
        return list(await self.get_many(User.agency_id == agency_id, User.is_active.is_(True),
                                        order_by=[("full_name", False)]))

    async def sign_up(self, form: SignUp) -> User:
        """Create a citizen account (individual, business or government entity)."""
        errors: dict[str, str] = {}
        email = ""
        try:
            email = normalize_email(form.email)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        name = " ".join(form.full_name.split())
        if not 2 <= len(name) <= 200:
            errors["full_name"] = _("Enter your name (2 to 200 characters).")
        try:
            check_password(form.password, email)
        except ValidationFailed as exc:
            errors.update(exc.errors)
        try:
            kind = SubmitterKind(form.kind)
        except ValueError:
            errors["kind"] = _("Choose who you are.")
            kind = SubmitterKind.INDIVIDUAL
        cr = ascii_digits((form.cr_number or "").strip()) or None
        if kind is SubmitterKind.BUSINESS and not (cr and re.fullmatch(r"\d{10}", cr)):
            errors["cr_number"] = _("A business account needs its 10-digit commercial registration number.")
        organisation = " ".join((form.organisation or "").split()) or None
        if kind is SubmitterKind.GOVERNMENT and not organisation:
            errors["organisation"] = _("Name the government entity you work for.")
        if email and not errors and await self.by_email(email):
            errors["email"] = _("An account with this e-mail already exists. Sign in instead.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        return await self.create(
            User(
                email=email,
                password_hash=hash_password(form.password),
                full_name=name,
                kind=kind,
                cr_number=cr if kind is SubmitterKind.BUSINESS else None,
                organisation=organisation if kind is SubmitterKind.GOVERNMENT else None,
                role=Role.CITIZEN,
                locale=form.locale if form.locale in ("ar", "en") else "ar",
            ),
            auto_commit=False,
        )

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        role: Role,
        full_name: str | None = None,
        agency: Agency | None = None,
        kind: SubmitterKind = SubmitterKind.INDIVIDUAL,
    ) -> User:
        """Create any kind of account (CLI, demo data, admins)."""
        email = normalize_email(email)
        check_password(password, email)
        if role.is_agency and agency is None:
            raise ValidationFailed(_("Agency staff must belong to an agency."), field="agency")
        if await self.by_email(email):
            raise ValidationFailed(_("An account with this e-mail already exists."), field="email")
        return await self.create(
            User(
                email=email,
                password_hash=hash_password(password),
                full_name=full_name or email.split("@")[0],
                role=role,
                kind=kind,
                agency_id=agency.id if (agency and role.is_agency) else None,
            ),
            auto_commit=False,
        )

    async def authenticate(self, email: str, password: str) -> User:
        """Check credentials with a per-account lockout after repeated failures."""
        refused = DomainError(_("The e-mail or password is not correct."))
        refused.status_code = 401
        user = await self.by_email(email) if email else None
        now = datetime.now(UTC)
        if user is not None and user.locked_until and user.locked_until > now:
            verify_password(None, password)  # same cost as a real check
            locked = DomainError(
                _("Too many failed attempts. Try again in %(n)s minutes.", n=LOCK_MINUTES)
            )
            locked.status_code = 429
            raise locked
        if user is None or not user.is_active or not verify_password(user.password_hash, password):
            if user is not None:
                failures = user.failed_logins + 1
                values: dict = {"failed_logins": failures}
                if failures >= LOCK_AFTER_FAILURES:
                    values = {"failed_logins": 0, "locked_until": now + timedelta(minutes=LOCK_MINUTES)}
                await self.session.execute(
                    update(User).where(User.id == user.id).values(**values)
                )
            raise refused
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user


class TokenService(DomainService[ApiToken]):
    class Repo(SQLAlchemyAsyncRepository[ApiToken]):
        model_type = ApiToken

    repository_type = Repo

    async def issue(self, user: User, name: str = "") -> str:
        """Create a token and return it in clear text: the only time it is ever seen."""
        token = new_api_token()
        await self.create(
            ApiToken(user_id=user.id, name=name[:100], token_hash=token_digest(token), prefix=token[:12]),
            auto_commit=False,
        )
        return token

    async def user_for(self, token: str) -> User | None:
        now = datetime.now(UTC)
        row = await self.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
        )
        if row is None or (row.expires_at and row.expires_at < now) or not row.user.is_active:
            return None
        # Touch at most once a minute: a busy API client should not write on every call.
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            row.last_used_at = now
        return row.user


async def audit(
    session: AsyncSession,
    action: str,
    *,
    actor: User | None,
    target_type: str = "",
    target_id: object = "",
    agency_id: int | None = None,
    ip: str | None = None,
    **detail: object,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            agency_id=agency_id,
            ip=ip,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )
