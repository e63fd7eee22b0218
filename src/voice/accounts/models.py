"""User, ApiToken, AuditEvent and the key/value store that holds sessions and rate-limit counters."""

from __future__ import annotations

import enum
from datetime import datetime

from advanced_alchemy.extensions.litestar.store import StoreModelMixin
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.catalogue.models import Agency
from voice.db import Base


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    AGENCY_STAFF = "agency_staff"
    AGENCY_ADMIN = "agency_admin"
    JUDGE = "judge"
    ADMIN = "admin"

    @property
    def is_agency(self) -> bool:
        return self in (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)


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
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
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
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    @property
    def is_staff(self) -> bool:
        return self.role.is_agency

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


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


class StoreItem(StoreModelMixin):
    """Server-side sessions and rate-limit counters, in PostgreSQL so every web process shares them."""

    __tablename__ = "kv_store"
