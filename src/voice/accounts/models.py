"""User, ApiToken, AuditEvent and the key/value store that holds sessions and rate-limit counters."""

from __future__ import annotations

import enum
from datetime import datetime

from advanced_alchemy.extensions.litestar.store import StoreModelMixin
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.catalogue.models import Agency
from voice.db import Base
from voice.i18n import gettext


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    AGENCY_STAFF = "agency_staff"
    AGENCY_ADMIN = "agency_admin"
    JUDGE = "judge"
    ADMIN = "admin"

    @property
    def is_agency(self) -> bool:
        return self in (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)

    @property
    def is_privileged(self) -> bool:
        """Roles that read citizens' personal data or decide awards: two-factor sign-in is required."""
        return self is not Role.CITIZEN


class SubmitterKind(enum.StrEnum):
    """Who is speaking: the award counts individuals (G2C), businesses (G2B) and agencies (G2G)."""

    INDIVIDUAL = "individual"
    BUSINESS = "business"
    GOVERNMENT = "government"


def str_enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as text with a CHECK constraint: adding a value later is a one-line migration,
    # unlike a native PostgreSQL enum type.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class User(Base):
    __tablename__ = "user_account"
    # Stored lower-cased (normalize_email), so a plain unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # UNUSABLE_PASSWORD until the person sets one (an invitation, a single sign-on account).
    password_hash: Mapped[str] = mapped_column(String(255))
    # The legal name: shown to the person, to their agency's colleagues and to administrators only.
    full_name: Mapped[str] = mapped_column(String(200))
    # What public pages show (ideas, comments, results); never the legal name by default.
    display_name: Mapped[str | None] = mapped_column(String(80), default=None)
    # From the national single sign-on, to link accounts (10 digits, starting 1 or 2).
    national_id: Mapped[str | None] = mapped_column(String(10), unique=True, default=None)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    kind: Mapped[SubmitterKind] = mapped_column(
        str_enum(SubmitterKind, "submitter_kind"), default=SubmitterKind.INDIVIDUAL
    )
    # Commercial registration number, for business accounts (G2B feedback is counted as such).
    cr_number: Mapped[str | None] = mapped_column(String(10), default=None)
    # The organisation a government-entity user speaks for (free text; need not be in the catalogue).
    organisation: Mapped[str | None] = mapped_column(String(200), default=None)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.CITIZEN, index=True)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", ondelete="RESTRICT"), default=None, index=True
    )
    locale: Mapped[str] = mapped_column(String(2), default="ar")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # Sessions and remembered devices carry the epoch they were made in; raising it (password reset,
    # deactivation) ends all of them at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # RFC 6238 shared secret (base32); two-factor sign-in is on once totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # The last 30-second step whose code was accepted: a code is good once (no replay).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Set when the person erased their account (PDPL): the row stays, anonymised, for the records
    # agencies must keep.
    erased_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    @property
    def is_staff(self) -> bool:
        return self.role.is_agency

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def public_name(self) -> str:
        """The name public pages show: the display name the person chose, else a neutral word."""
        return self.display_name or gettext("A participant")

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_token"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    user: Mapped[User] = relationship(lazy="joined")


class AuditEvent(Base):
    """Who did what to which record: kept for every privileged action."""

    __tablename__ = "audit_event"

    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True, default=None
    )
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", ondelete="SET NULL"), index=True, default=None
    )
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a secret)
    EMAIL_VERIFICATION = "email_verification"


class AccountToken(Base):
    """A link sent by e-mail (invitation, password reset, e-mail verification): single-use and expiring.
    Only its SHA-256 is stored, so the table cannot be replayed from a backup."""

    __tablename__ = "account_token"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app (stored as SHA-256)."""

    __tablename__ = "recovery_code"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class SignInFailure(Base):
    """Failed attempts of one client on one account (or one e-mail that has no account: the same
    bookkeeping, so the answers are the same). Keyed by both, so a stranger's failures never lock the
    owner out from their own device."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (UniqueConstraint("account", "client", name="uq_sign_in_failure_account_client"),)

    account: Mapped[str] = mapped_column(String(300), index=True)
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class StoreItem(StoreModelMixin):
    """Server-side sessions and rate-limit counters, in PostgreSQL so every web process shares them."""

    __tablename__ = "kv_store"
