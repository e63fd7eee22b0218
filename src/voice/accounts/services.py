"""Account operations shared by the web layer, the API and the CLI."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts import lockout
from voice.accounts.models import ApiToken, AuditEvent, Role, SubmitterKind, User
from voice.accounts.security import (
    UNUSABLE_PASSWORD,
    hash_password,
    needs_rehash,
    new_api_token,
    token_digest,
    verify_password,
)
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import DomainError, ValidationFailed
from voice.i18n import _, ngettext

T = TypeVar("T")

PASSWORD_MIN = 12
PASSWORD_MAX = 128
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
            ngettext("The password must be at least %(num)s character.", "The password must be at least %(num)s characters.", PASSWORD_MIN), field="password"
        )
    if len(password) > PASSWORD_MAX:
        raise ValidationFailed(
            ngettext("The password must be at most %(num)s character.", "The password must be at most %(num)s characters.", PASSWORD_MAX), field="password"
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
    display_name: str = ""


def one_line(value: object, limit: int = 200) -> str:
    """A name-like text on one line: control characters dropped (PostgreSQL refuses NUL), spaces collapsed."""
    text = "".join(ch for ch in str(value or "") if unicodedata.category(ch) != "Cc" or ch in "\t\n\r")
    return " ".join(text.split())[:limit]


def clean_display_name(value: str) -> str | None:
    """A public display name: 2 to 80 characters once spaces are collapsed, or None when left empty."""
    name = one_line(value, 81)
    if not name:
        return None
    if not 2 <= len(name) <= 80:
        raise ValidationFailed(_("A display name has 2 to 80 characters."), field="display_name")
    return name


FULL_NAME = range(2, 201)  # lengths of a full name, once spaces are collapsed


def clean_full_name(value: str) -> str:
    name = one_line(value, FULL_NAME[-1] + 1)
    if len(name) not in FULL_NAME:
        raise ValidationFailed(_("Enter your name (2 to 200 characters)."), field="full_name")
    return name


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

    def check_sign_up(self, form: SignUp) -> tuple[str, dict]:
        """Validate a citizen's sign-up form: the normalized e-mail and the account's fields, or every
        problem at once (whether the e-mail is taken is not a problem the form may reveal)."""
        errors: dict[str, str] = {}

        def collect(check: Callable[[], T]) -> T | None:
            try:
                return check()
            except ValidationFailed as exc:
                errors.update(exc.errors)
                return None

        email = collect(lambda: normalize_email(form.email))
        name = collect(lambda: clean_full_name(form.full_name))
        collect(lambda: check_password(form.password, form.email))
        display = collect(lambda: clean_display_name(form.display_name))
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
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        return email or "", {
            "full_name": name, "display_name": display, "kind": kind,
            "cr_number": cr if kind is SubmitterKind.BUSINESS else None,
            "organisation": organisation if kind is SubmitterKind.GOVERNMENT else None,
            "locale": form.locale if form.locale in ("ar", "en") else "ar"}

    async def create_user(
        self,
        *,
        email: str,
        password: str | None,
        role: Role,
        full_name: str | None = None,
        agency: Agency | None = None,
        kind: SubmitterKind = SubmitterKind.INDIVIDUAL,
        verified: bool = True,
        display_name: str | None = None,
    ) -> User:
        """Create any kind of account (CLI, demo data, invitations: ``password=None`` leaves it unusable
        until the person sets one). An account made by an administrator or the CLI has a vouched-for
        e-mail; self sign-up passes ``verified=False``."""
        email = normalize_email(email)
        if password is not None:
            check_password(password, email)
        if role.is_agency and agency is None:
            raise ValidationFailed(_("Agency staff must belong to an agency."), field="agency")
        if await self.by_email(email):
            raise ValidationFailed(_("An account with this e-mail already exists."), field="email")
        return await self.create(
            User(
                email=email,
                password_hash=hash_password(password) if password is not None else UNUSABLE_PASSWORD,
                full_name=full_name or email.split("@")[0],
                display_name=display_name,
                role=role,
                kind=kind,
                agency_id=agency.id if (agency and role.is_agency) else None,
                email_verified_at=datetime.now(UTC) if verified else None,
            ),
            auto_commit=False,
        )

    async def authenticate(self, email: str, password: str, client: str) -> User:
        """Check a password, with back-off per account and client (voice.accounts.lockout). Existing and
        unknown e-mails get the same answers: 401 for a wrong pair, 429 while this client must wait."""
        refused = DomainError(_("The e-mail or password is not correct."))
        refused.status_code = 401
        key = lockout.account_key(email)
        await lockout.check(self.session, key, client)
        user = await self.by_email(email) if email else None
        if user is None or not user.is_active or not verify_password(user.password_hash, password):
            await lockout.record_failure(self.session, key, client)
            raise refused
        await lockout.clear(self.session, key, client)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user

    async def set_password(self, user: User, password: str) -> None:
        """A new password ends every session and remembered device of the account."""
        check_password(password, user.email)
        user.password_hash = hash_password(password)
        user.session_epoch += 1
        await lockout.clear(self.session, lockout.account_key(user.email))

    async def signed_in(self, user: User) -> None:
        user.last_login_at = datetime.now(UTC)


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

    async def mine(self, user: User) -> list[ApiToken]:
        return list(await self.get_many(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                        order_by=[("created_at", True)]))

    async def revoke_all(self, user: User) -> int:
        result = await self.session.execute(update(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

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
