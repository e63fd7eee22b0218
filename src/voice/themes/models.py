"""Theme and ThemeModel tables (shared by feedback and ideas through ``scope``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from voice.db import Base


class Theme(Base):
    """A theme the NLP found in an agency's feedback; staff edits (label, pin) are kept here."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("agency_id", "scope", "key", name="uq_theme_agency_scope_key"),)

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16), default="feedback")  # feedback | ideas
    key: Mapped[str] = mapped_column(String(64))  # the stable id the theme model gives it
    label: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list] = mapped_column(JSONB, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    quality: Mapped[float | None] = mapped_column()
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    renamed: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


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
