"""E-consultation tables: a draft policy or regulation split into numbered articles, the comments people
leave on each article (a stance and a text, replies, reports), and the agency's response per article."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.accounts.models import SubmitterKind, User, str_enum
from voice.attachments.owners import Owner as AttachmentOwner
from voice.attachments.owners import OwnerState
from voice.attachments.owners import register as register_attachment_owner
from voice.catalogue.models import Agency
from voice.db import Base, PublicText
from voice.themes.models import Theme
from voice.themes.sources import Source, register_family

THEME_FAMILY = "cons"  # a consultation's themes live in scope "cons_<id>" (voice.themes.sources)
# What the full draft's PDF is filed under (voice.attachments).
ATTACHMENT_OWNER = "consultation"


class ConsultationStatus(enum.StrEnum):
    DRAFT = "draft"  # staff are still writing it; nobody else sees it
    PUBLISHED = "published"  # public; open for comments between opens_on and closes_on
    CLOSED = "closed"  # the window ended (or staff closed it early, with a reason)


class Stance(enum.StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"
    SUGGEST = "suggest"  # suggest a change


class Decision(enum.StrEnum):
    """What the agency did with an article after hearing the comments."""

    KEPT = "kept"
    AMENDED = "amended"
    REMOVED = "removed"
    ADDED = "added"  # a new article the comments led to


class Consultation(Base):
    __tablename__ = "consultation"
    __table_args__ = (Index("ix_consultation_public", "status", "closes_on",
                            postgresql_where=text("status <> 'draft'")),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="RESTRICT"), index=True)
    title_ar: Mapped[str] = mapped_column(PublicText(300))
    title_en: Mapped[str | None] = mapped_column(PublicText(300))
    summary_ar: Mapped[str] = mapped_column(PublicText)
    summary_en: Mapped[str | None] = mapped_column(PublicText)
    # Who is asked: a list of SubmitterKind values (individuals, businesses, government bodies).
    audience: Mapped[list] = mapped_column(JSONB, default=list)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)  # the last day comments are taken (Riyadh time)
    status: Mapped[ConsultationStatus] = mapped_column(
        str_enum(ConsultationStatus, "consultation_status"), default=ConsultationStatus.DRAFT, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Given when staff close before closes_on; shown on the public page.
    close_reason: Mapped[str | None] = mapped_column(PublicText)
    # The full draft as a PDF: the id of its attachment (owner "consultation"), as text; None: no PDF,
    # the articles are the draft.
    draft_document: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The response report: written after closing, public once report_published_at is set.
    report_summary: Mapped[str | None] = mapped_column(PublicText)
    report_published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    comments_count: Mapped[int] = mapped_column(Integer, default=0)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    articles: Mapped[list[ConsultationArticle]] = relationship(
        lazy="selectin", order_by="ConsultationArticle.position", cascade="all, delete-orphan",
        back_populates="consultation")

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_ar

    def summary(self, locale: str) -> str:
        return self.summary_en if locale == "en" and self.summary_en else self.summary_ar

    @property
    def is_public(self) -> bool:
        return self.status is not ConsultationStatus.DRAFT

    def is_open(self, today: date) -> bool:
        return self.status is ConsultationStatus.PUBLISHED and self.opens_on <= today <= self.closes_on


class ConsultationArticle(Base):
    """One numbered article (or section) of the draft, and the agency's decision on it in the report."""

    __tablename__ = "consultation_article"
    __table_args__ = (UniqueConstraint("consultation_id", "number", name="uq_consultation_article_number"),)

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(PublicText(300), default="")
    body: Mapped[str] = mapped_column(PublicText, default="")  # the draft text ("" for an article added in the report)
    # The response report: decision, reason and the new text (amended or added).
    decision: Mapped[Decision | None] = mapped_column(str_enum(Decision, "consultation_decision"))
    reason: Mapped[str | None] = mapped_column(PublicText)
    amended_body: Mapped[str | None] = mapped_column(PublicText)
    added_in_report: Mapped[bool] = mapped_column(Boolean, default=False)

    consultation: Mapped[Consultation] = relationship(back_populates="articles")


class ConsultationComment(Base):
    """A stance with its text on one article (one per person and article, editable while open), or, with
    parent_id, a reply to one."""

    __tablename__ = "consultation_comment"
    __table_args__ = (
        Index("uq_consultation_comment_stance", "article_id", "author_id", unique=True,
              postgresql_where=text("parent_id IS NULL")),
    )

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("consultation_article.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("consultation_comment.id", ondelete="CASCADE"),
                                                  index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # Who spoke, counted apart by the award: individuals (G2C), businesses (G2B), agencies (G2G).
    author_kind: Mapped[SubmitterKind] = mapped_column(str_enum(SubmitterKind, "submitter_kind"))
    # The organisation a business or government commenter speaks for, shown instead of a person's name.
    organisation: Mapped[str | None] = mapped_column(String(200))
    organisation_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    stance: Mapped[Stance | None] = mapped_column(str_enum(Stance, "consultation_stance"))  # None on replies
    body: Mapped[str] = mapped_column(Text)  # as written, never shown publicly
    body_public: Mapped[str] = mapped_column(PublicText)  # personal data redacted
    edited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(PublicText)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"), index=True)
    theme_score: Mapped[float | None] = mapped_column()

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    article: Mapped[ConsultationArticle] = relationship(lazy="joined", innerjoin=True)
    theme: Mapped[Theme | None] = relationship(lazy="joined")

    @property
    def speaker(self) -> str:
        """The name public pages show: the organisation for businesses and agencies, else the display name."""
        return self.organisation or self.author.public_name


class ConsultationReport(Base):
    """Someone flagged a comment for the moderators."""

    __tablename__ = "consultation_report"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("consultation_comment.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


def _theme_source(consultation_id: int) -> Source:
    # The visible stances (not replies) of one consultation, by their redacted text.
    return Source(
        model=ConsultationComment, text=lambda: ConsultationComment.body_public,
        rows=lambda _agency_id: [ConsultationComment.consultation_id == consultation_id,
                                 ConsultationComment.parent_id.is_(None), ConsultationComment.hidden.is_(False)],
        per_agency=True)


def _theme_records() -> Any:
    # For the nightly refresh: public consultations with visible stances, and when the newest was written
    # or edited (a closed consultation with no new comments is left as it is).
    newest = func.max(func.coalesce(ConsultationComment.edited_at, ConsultationComment.created_at))
    return (select(Consultation.id, Consultation.agency_id, newest)
            .join(ConsultationComment, ConsultationComment.consultation_id == Consultation.id)
            .where(Consultation.status != ConsultationStatus.DRAFT, ConsultationComment.parent_id.is_(None),
                   ConsultationComment.hidden.is_(False))
            .group_by(Consultation.id, Consultation.agency_id))


register_family(THEME_FAMILY, _theme_source, _theme_records)


async def _attachment_owner(session: AsyncSession, consultation_id: int) -> OwnerState | None:
    """The draft's PDF belongs to the consultation's agency and is public once the consultation is."""
    row = (await session.execute(select(Consultation.agency_id, Consultation.status).where(
        Consultation.id == consultation_id))).first()
    return OwnerState(agency_id=row.agency_id, public=row.status != ConsultationStatus.DRAFT) if row else None


# The full draft as a PDF: its agency's staff upload it; everyone downloads it once the consultation is published.
register_attachment_owner(ATTACHMENT_OWNER, AttachmentOwner(state=_attachment_owner))
