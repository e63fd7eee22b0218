"""Agency and Service tables."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.db import Base


class Agency(Base):
    __tablename__ = "agency"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Service-level agreement: days within which every item must get a first answer.
    sla_days: Mapped[int] = mapped_column(Integer, default=5)
    # When set, public feedback about this agency appears on the board only after review.
    publish_after_review: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    services: Mapped[list[Service]] = relationship(
        back_populates="agency", order_by="Service.name_ar", lazy="selectin", cascade="all, delete-orphan"
    )

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("agency_id", "slug", name="uq_service_agency_slug"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    # web, mobile or both: the award has a smart-devices branch, so the channel matters.
    channel: Mapped[str] = mapped_column(String(16), default="web")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship(back_populates="services", lazy="joined")

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en
