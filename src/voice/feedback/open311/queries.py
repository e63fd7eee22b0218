"""The business side of Open311: what the protocol layer asks, answered in the domain's own terms
(agencies, e-services, published feedback, statuses), with no HTTP and no Open311 field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Select, and_, or_, select

from voice.catalogue.models import Agency, Service
from voice.db import DomainService
from voice.errors import NotFound
from voice.feedback.models import Event, Feedback, Status
from voice.feedback.tracking import TrackingService
from voice.i18n import _

MAX_RESULTS = 1000


@dataclass
class RequestSearch:
    """Published requests to list: by tracking code or id (which overrides the rest), else by when they
    were received, their status and their agency / e-service."""

    codes: list[str] | None = None  # with ids: search by these only (an empty list finds nothing)
    ids: list[int] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[Status, ...] | None = None  # None: any status
    services: list[tuple[Agency, Service | None]] = field(default_factory=list)


class Open311Queries(DomainService[Feedback]):
    class Repo(SQLAlchemyAsyncRepository[Feedback]):
        model_type = Feedback

    repository_type = Repo

    async def services(self, lang: str) -> list[Service]:
        """Every active e-service of an active agency, in the language's alphabetical order."""
        order = (Agency.name_ar, Service.name_ar) if lang == "ar" else (Agency.name_en, Service.name_en)
        return list((await self.session.scalars(
            select(Service).join(Agency, Agency.id == Service.agency_id)
            .where(Agency.is_active.is_(True), Service.is_active.is_(True)).order_by(*order))).unique().all())

    async def resolve(self, code: str) -> tuple[Agency, Service | None]:
        """The active agency (and e-service) a service code names: "<agency>.<service>", or the bare
        agency slug for items sent without an e-service."""
        service = await self.session.scalar(
            select(Service).join(Agency, Agency.id == Service.agency_id)
            .where(Agency.is_active.is_(True), Service.is_active.is_(True),
                   (Agency.slug + "." + Service.slug) == code))
        if service is not None:
            return service.agency, service
        agency = await self.session.scalar(select(Agency).where(Agency.slug == code, Agency.is_active.is_(True)))
        if agency is None:
            raise NotFound(_("No service has this code. See /open311/v2/services.json."), field="service_code")
        return agency, None

    async def search(self, wanted: RequestSearch) -> list[Feedback]:
        """Published items only (never a private one, whatever is asked), newest first."""
        stmt: Select = select(Feedback).where(Feedback.is_public)
        if wanted.codes is not None or wanted.ids is not None:
            stmt = stmt.where(or_(Feedback.tracking_code.in_(wanted.codes or []), Feedback.id.in_(wanted.ids or [])))
        else:
            if wanted.start is not None:
                stmt = stmt.where(Feedback.created_at >= wanted.start)
            if wanted.end is not None:
                stmt = stmt.where(Feedback.created_at <= wanted.end)
            if wanted.statuses is not None:
                stmt = stmt.where(Feedback.status.in_(wanted.statuses))
            if wanted.services:
                stmt = stmt.where(or_(*(
                    and_(Feedback.agency_id == agency.id,
                         Feedback.service_id == service.id if service else Feedback.service_id.is_(None))
                    for agency, service in wanted.services)))
        return list((await self.session.scalars(
            stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(MAX_RESULTS))).all())

    async def published(self, feedback_id: int) -> Feedback:
        item = await self.session.scalar(select(Feedback).where(Feedback.id == feedback_id, Feedback.is_public))
        if item is None:
            raise NotFound(_("No feedback has this id."), field="service_request_id")
        return item

    async def tracked(self, code: str) -> Feedback:
        """Any item, private ones too, for whoever holds its tracking code."""
        return await TrackingService(session=self.session).by_tracking_code(code)

    async def status_notes(self, ids: list[int]) -> dict[int, str | None]:
        """The note of each item's latest public status change (None when that change had none)."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Event.feedback_id, Event.note)
            .where(Event.feedback_id.in_(ids), Event.kind == "status", Event.public.is_(True))
            .order_by(Event.feedback_id, Event.created_at.desc(), Event.id.desc())
            .distinct(Event.feedback_id))
        return {feedback_id: note for feedback_id, note in rows.all()}
