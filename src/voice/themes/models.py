"""Theme and ThemeModel tables (shared by feedback and ideas through ``scope``)."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from voice.db import Base, PublicText


class ThemeGroup(Base):
    """A top-level theme: the fine themes of a run grouped into a number a person can triage (at most 15,
    plus the "other" bucket of texts that say little or are in another language). ``key`` is the model's
    group id; a staff rename (``renamed``) wins over the model's name on every refresh. A refresh deletes
    the groups it no longer finds (voice.themes.groups)."""

    __tablename__ = "theme_group"
    __table_args__ = (UniqueConstraint("agency_id", "scope", "key", name="uq_theme_group_agency_scope_key"),)

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16), default="feedback")
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(PublicText(200))
    keywords: Mapped[list] = mapped_column(JSONB, default=list)
    renamed: Mapped[bool] = mapped_column(Boolean, default=False)
    other: Mapped[bool] = mapped_column(Boolean, default=False)


class Theme(Base):
    """A theme the NLP found in an agency's feedback; staff edits (label, pin) are kept here."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("agency_id", "scope", "key", name="uq_theme_agency_scope_key"),)

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16), default="feedback")  # feedback | ideas
    key: Mapped[str] = mapped_column(String(64))  # the stable id the theme model gives it
    label: Mapped[str] = mapped_column(PublicText(200))
    keywords: Mapped[list] = mapped_column(JSONB, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    quality: Mapped[float | None] = mapped_column()
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    renamed: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff muted the theme's "emerging" flag until this day (voice.themes.emerging); None: not muted.
    emerging_muted_until: Mapped[date | None] = mapped_column(Date)
    # A staff merge: this theme was folded into another; re-runs keep it folded.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    # Feedback ids that best represent the theme (from the model), for the theme page.
    representative_ids: Mapped[list] = mapped_column(JSONB, default=list)
    # The top-level theme holding this one (None: not grouped yet, shown as its own top-level theme).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("theme_group.id", ondelete="SET NULL"), index=True)
    other: Mapped[bool] = mapped_column(Boolean, default=False)  # texts set aside: little said, other language


class ThemeModel(Base):
    """A fitted, serialized theme model (nlp's safe versioned format); one current per agency and scope."""

    __tablename__ = "theme_model"
    __table_args__ = (
        Index("uq_theme_model_current", "agency_id", "scope", unique=True, postgresql_where=text("is_current")),
    )

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16), default="feedback")
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    method: Mapped[str] = mapped_column(String(16))
    n_texts: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class ThemeRun(Base):
    """One clustering run for an agency: queued → running → succeeded | failed, with live progress."""

    __tablename__ = "theme_run"

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16), default="feedback")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    n_texts: Mapped[int | None] = mapped_column(Integer)
    n_themes: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(2000))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class TextEmbedding(Base):
    """A text's sentence embedding, computed once per encoder and reused by every refresh, assignment
    and search (voice.themes.vectors). ``kind`` is the theme scope the text belongs to (feedback, ideas).

    The vector column, ``embedding``, is not mapped: it is pgvector's ``vector`` where the extension is
    installed (HNSW indexes per kind and encoder) and ``real[]`` elsewhere, written and read with SQL."""

    __tablename__ = "text_embedding"
    __table_args__ = (UniqueConstraint("kind", "text_id", "encoder", name="uq_text_embedding"),)

    kind: Mapped[str] = mapped_column(String(16))
    text_id: Mapped[int] = mapped_column(BigInteger)
    encoder: Mapped[str] = mapped_column(String(32))
    dim: Mapped[int] = mapped_column(Integer)
