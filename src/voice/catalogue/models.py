"""Agency and Service tables."""

from __future__ import annotations

import enum
import re

from sqlalchemy import Boolean, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voice.db import Base

# What an agency's or an e-service's slug is (one to 64 characters, the column's length): administrators'
# forms and the API check it, and the published description states it on every field naming one.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


class Channel(enum.StrEnum):
    """Where an e-service is delivered: the award has a smart-devices branch, so the channel matters."""

    WEB = "web"
    MOBILE = "mobile"
    BOTH = "both"  # web and mobile
    COUNTER = "counter"


class Agency(Base):
    __tablename__ = "agency"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Service-level agreement: days within which every item must get a first answer.
    sla_days: Mapped[int] = mapped_column(Integer, default=5)
    # Per feedback kind ("complaint": 3, ...), overriding ``sla_days``; a service's own SLA wins over both.
    sla_by_kind: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    # Where people and the platform write to the agency about its feedback programme.
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # When set, public feedback about this agency appears on the board only after review.
    publish_after_review: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    services: Mapped[list[Service]] = relationship(
        back_populates="agency", order_by="Service.position, Service.name_ar", lazy="selectin", cascade="all, delete-orphan"
    )

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en

    def sla_for(self, kind: str, service: Service | None = None) -> int:
        """Days to a first answer for feedback of this kind about this service (the rule the intake
        statement applies in SQL: service, then kind, then the agency's default)."""
        if service is not None and service.sla_days:
            return service.sla_days
        return int(self.sla_by_kind.get(kind) or self.sla_days)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("agency_id", "slug", name="uq_service_agency_slug"),)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default=Channel.WEB.value)  # a Channel value
    # The order the agency wants its services listed in (pickers, the catalogue API).
    position: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # Overrides the agency's SLA for feedback about this service.
    sla_days: Mapped[int | None] = mapped_column(Integer, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship(back_populates="services", lazy="joined")

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en
