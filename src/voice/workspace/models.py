"""Improvements ("you said, we did"), transfers between agencies and bulk answers."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, Date, ForeignKey, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.accounts.models import str_enum
from voice.catalogue.models import Agency
from voice.db import Base, PublicText, metadata


class ImprovementKind(enum.StrEnum):
    SERVICE = "service"
    POLICY = "policy"
    REGULATION = "regulation"
    PROCESS = "process"


class ImprovementStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"


improvement_theme = Table(
    "improvement_theme", metadata,
    Column("improvement_id", ForeignKey("improvement.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)
improvement_feedback = Table(
    "improvement_feedback", metadata,
    Column("improvement_id", ForeignKey("improvement.id", ondelete="CASCADE"), primary_key=True),
    Column("feedback_id", ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Improvement(Base):
    """Something an agency changed because of what people said, linked to the themes and items behind it."""

    __tablename__ = "improvement"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ImprovementKind] = mapped_column(str_enum(ImprovementKind, "improvement_kind"))
    title: Mapped[str] = mapped_column(PublicText(200))
    description: Mapped[str] = mapped_column(PublicText, default="")
    status: Mapped[ImprovementStatus] = mapped_column(
        str_enum(ImprovementStatus, "improvement_status"), default=ImprovementStatus.PLANNED, index=True)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    agency: Mapped[Agency] = relationship(lazy="joined")


class Transfer(Base):
    """A misrouted item moved to the right agency (G2G), with the reason; both agencies keep the record."""

    __tablename__ = "feedback_transfer"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    from_agency: Mapped[Agency] = relationship(foreign_keys=[from_agency_id], lazy="joined")
    to_agency: Mapped[Agency] = relationship(foreign_keys=[to_agency_id], lazy="joined")


class BulkAnswer(Base):
    """One public answer sent to every item of a theme; each item's Response points back to it."""

    __tablename__ = "bulk_answer"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(PublicText)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    item_count: Mapped[int] = mapped_column(default=0)
