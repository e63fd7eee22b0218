"""One table for every attachment, whatever it is attached to (feedback, an award entry, a consultation):
the owner is named by kind and id, and the owner's slice says who may read it (voice.attachments.owners)."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from voice.db import Base


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_owner", "owner_kind", "owner_id"),)

    owner_kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(BigInteger)
    # Where the bytes are in the storage: random, never derived from what the sender called the file.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # image, pdf
    media_type: Mapped[str] = mapped_column(String(100))
    # The sender's file name, cleaned, with the extension of what the file really is (display only).
    filename: Mapped[str] = mapped_column(String(120))
    # A title given with the file (award documents); None shows the file name.
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    pages: Mapped[int | None] = mapped_column(Integer, default=None)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None, index=True)
    # Shown on public pages only when a moderator published it and its owner is public itself.
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    @property
    def label(self) -> str:
        return self.title or self.filename

    @property
    def is_image(self) -> bool:
        return self.kind == "image"
