"""The audit view: who changed what and when, filtered by person, action, agency, target and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.orm import aliased

from voice.accounts.models import AuditEvent, User
from voice.administration.scope import require_administrator
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.i18n import RIYADH

PAGE = 100


@dataclass
class AuditFilter:
    actor: str = ""  # e-mail, or part of it
    action: str = ""  # a prefix: "user." finds every change to people
    agency: str = ""  # slug
    target: str = ""  # "user:12", or a target id
    since: date | None = None
    until: date | None = None


@dataclass
class AuditRow:
    event: AuditEvent
    actor_email: str | None
    agency_slug: str | None


class AuditService(DomainService[AuditEvent]):
    class Repo(SQLAlchemyAsyncRepository[AuditEvent]):
        model_type = AuditEvent

    repository_type = Repo

    async def events(self, viewer: User, f: AuditFilter, offset: int = 0) -> list[AuditRow]:
        """Newest first; an agency administrator sees their own agency's events only."""
        require_administrator(viewer)
        actor = aliased(User)
        stmt = (select(AuditEvent, actor.email, Agency.slug)
                .outerjoin(actor, actor.id == AuditEvent.actor_id)
                .outerjoin(Agency, Agency.id == AuditEvent.agency_id)
                .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).offset(max(0, offset)).limit(PAGE))
        if not viewer.is_admin:
            stmt = stmt.where(AuditEvent.agency_id == viewer.agency_id)
        if f.actor.strip():
            stmt = stmt.where(actor.email.ilike("%" + _escape(f.actor.strip().lower()[:254]) + "%"))
        if f.action.strip():
            stmt = stmt.where(AuditEvent.action.startswith(f.action.strip()[:64], autoescape=True))
        if f.agency.strip():
            stmt = stmt.where(Agency.slug == f.agency.strip()[:64])
        if f.target.strip():
            kind, _, ident = f.target.strip()[:130].rpartition(":")
            stmt = stmt.where(AuditEvent.target_id == ident[:64])
            if kind:
                stmt = stmt.where(AuditEvent.target_type == kind[:64])
        if f.since:
            stmt = stmt.where(AuditEvent.created_at >= datetime.combine(f.since, time(), RIYADH))
        if f.until:
            stmt = stmt.where(AuditEvent.created_at < datetime.combine(f.until + timedelta(days=1), time(), RIYADH))
        return [AuditRow(e, email, slug) for e, email, slug in (await self.session.execute(stmt)).all()]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
