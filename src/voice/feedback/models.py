"""Feedback and everything that hangs off it: history, answers, supports, reports, idempotency."""

from __future__ import annotations

import enum
from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from voice.accounts.models import SubmitterKind, User, str_enum
from voice.attachments.owners import Owner as AttachmentOwner
from voice.attachments.owners import OwnerState
from voice.attachments.owners import register as register_attachment_owner
from voice.catalogue.models import Agency, Service
from voice.db import Base, PublicSearchText, PublicText
from voice.themes.models import Theme
from voice.themes.sources import Source, register

# What attachments of feedback are filed under (voice.attachments).
ATTACHMENT_OWNER = "feedback"


class FeedbackKind(enum.StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"
    QUESTION = "question"


class Status(enum.StrEnum):
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DECLINED = "declined"

    @property
    def is_closed(self) -> bool:
        """Resolved or declined: the one definition of "closed" (OPEN_STATUSES and CLOSED_STATUSES,
        the inbox, the bulk actions and Open311's open/closed all derive from it)."""
        return self in (Status.RESOLVED, Status.DECLINED)


CLOSED_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s.is_closed)
OPEN_STATUSES: tuple[Status, ...] = tuple(s for s in Status if not s.is_closed)


class Channel(enum.StrEnum):
    WEB = "web"
    API = "api"
    OPEN311 = "open311"
    MOBILE = "mobile"


class Moderation(enum.StrEnum):
    """Whether a published item shows on the public board."""

    VISIBLE = "visible"
    PENDING = "pending"  # the agency publishes after review
    HIDDEN = "hidden"  # hidden by a moderator, with a reason


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        # The public board pages through published items newest first (keyset pagination).
        Index("ix_feedback_board", "created_at", "id", postgresql_where=text("is_public")),
        Index("ix_feedback_board_agency", "agency_id", "created_at", "id", postgresql_where=text("is_public")),
        Index("ix_feedback_agency_created", "agency_id", "created_at"),
        # No pending list: its merges stalled submissions (see migration 0007).
        Index("ix_feedback_search", "search_vector", postgresql_using="gin", postgresql_with={"fastupdate": "off"}),
        # The workspace counts an agency's items still without a theme on every dashboard view.
        Index("ix_feedback_unthemed", "agency_id", postgresql_where=text("theme_id IS NULL")),
    )

    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="RESTRICT"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"), index=True)
    kind: Mapped[FeedbackKind] = mapped_column(str_enum(FeedbackKind, "feedback_kind"))
    submitter_kind: Mapped[SubmitterKind] = mapped_column(str_enum(SubmitterKind, "submitter_kind"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"), default=Channel.WEB)
    # What the person wrote, never altered; shown only to the responsible agency.
    body: Mapped[str] = mapped_column(Text)
    # The same text with personal data replaced by typed placeholders: what the public sees.
    body_public: Mapped[str] = mapped_column(PublicText)
    # Normalized words and stems of the public text, for search across Arabic spelling variants.
    search_text: Mapped[str] = mapped_column(PublicSearchText, default="")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple'::regconfig, search_text)", persisted=True)
    )
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation: Mapped[Moderation] = mapped_column(str_enum(Moderation, "moderation"), default=Moderation.VISIBLE)
    moderation_reason: Mapped[str | None] = mapped_column(PublicText)
    # Denormalized "is on the public board" so the board's index only holds what it shows.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[Status] = mapped_column(str_enum(Status, "feedback_status"), default=Status.RECEIVED, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"), index=True)
    theme_score: Mapped[float | None] = mapped_column()
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    satisfaction_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    language: Mapped[str] = mapped_column(String(2), default="ar")
    # The staff member triaging the item (agency workspace).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    service: Mapped[Service | None] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="noload", foreign_keys=[user_id])
    assignee: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[assignee_id])
    theme: Mapped[Theme | None] = relationship(lazy="joined")

    @property
    def awaiting_review(self) -> bool:
        """Published by its author, held until the agency approves it for the board."""
        return self.moderation is Moderation.PENDING

    @hybrid_method
    def overdue(self, now: datetime) -> bool:
        """Still open after its answer was due (in Python on a row, or as a query condition)."""
        return not self.status.is_closed and self.due_at < now

    @overdue.inplace.expression
    @classmethod
    def _overdue_condition(cls, now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(cls.status.in_(OPEN_STATUSES), cls.due_at < now)


class Event(Base):
    """The item's history: every status change, answer, transfer and moderation step."""

    __tablename__ = "feedback_event"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # created, status, answer, moderation, transfer, note
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(PublicText)
    # Public events show on the tracking page; internal ones only to the agency.
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Response(Base):
    """An agency's answer to an item: public (board and tracking page) or private (submitter only)."""

    __tablename__ = "feedback_response"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(PublicText)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the answer was sent to a whole theme at once.
    bulk_answer_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_answer.id", ondelete="SET NULL"))

    agency: Mapped[Agency] = relationship(lazy="joined")


class Support(Base):
    """A "me too": one per signed-in person, or one per device for anonymous visitors."""

    __tablename__ = "feedback_support"
    __table_args__ = (
        UniqueConstraint("feedback_id", "user_id", name="uq_support_user"),
        UniqueConstraint("feedback_id", "device", name="uq_support_device"),
        CheckConstraint("user_id IS NOT NULL OR device IS NOT NULL", name="support_has_supporter"),
    )

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # SHA-256 of the device cookie: the raw value never reaches the database.
    device: Mapped[str | None] = mapped_column(String(64))


class Report(Base):
    """Someone flagged a public item for moderation."""

    __tablename__ = "feedback_report"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    device: Mapped[str | None] = mapped_column(String(64))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class IdempotencyKey(Base):
    """The first answer to a request carrying an Idempotency-Key, replayed for its retries."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)

    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict] = mapped_column(JSONB)


# Theme runs cluster each agency's feedback by its public (redacted) text.
register("feedback", Source(model=Feedback, text=lambda: Feedback.body_public,
                            rows=lambda agency_id: [Feedback.agency_id == agency_id]))


async def _attachment_owner(session: AsyncSession, feedback_id: int) -> OwnerState | None:
    """An item's files belong to the agency that holds the item now (a transfer moves them along) and
    are public only while the item is on the board."""
    row = (await session.execute(select(Feedback.agency_id, Feedback.is_public).where(
        Feedback.id == feedback_id))).first()
    return OwnerState(agency_id=row.agency_id, public=row.is_public) if row else None


# Screenshots attached to feedback: the agency reads them; the public only once a moderator published one.
register_attachment_owner(ATTACHMENT_OWNER, AttachmentOwner(state=_attachment_owner))
