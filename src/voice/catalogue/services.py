"""Reading and maintaining the catalogue of agencies and e-services."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voice.catalogue.models import Agency, Service
from voice.db import DomainService
from voice.errors import NotFound
from voice.i18n import _


class AgencyService(DomainService[Agency]):
    class Repo(SQLAlchemyAsyncRepository[Agency]):
        model_type = Agency

    repository_type = Repo

    async def catalogue(self) -> list[Agency]:
        """Active agencies with their active services, in Arabic alphabetical order."""
        # Load only the active services into each collection. Never assign a filtered list to
        # agency.services: with delete-orphan, the next commit would delete the services left out.
        rows = await self.session.scalars(
            select(Agency)
            .where(Agency.is_active.is_(True))
            .options(selectinload(Agency.services.and_(Service.is_active.is_(True))))
            .order_by(Agency.name_ar)
            .execution_options(populate_existing=True)
        )
        return list(rows.unique())

    async def by_slug(self, slug: str) -> Agency:
        agency = await self.repository.get_one_or_none(Agency.slug == slug, Agency.is_active.is_(True))
        if agency is None:
            raise NotFound(_("Unknown agency: %(slug)s", slug=slug[:64]), field="agency")
        return agency

    async def service_by_slug(self, agency: Agency, slug: str) -> Service:
        service = await self.session.scalar(
            select(Service).where(Service.agency_id == agency.id, Service.slug == slug, Service.is_active.is_(True))
        )
        if service is None:
            raise NotFound(_("Unknown service: %(slug)s", slug=slug[:64]), field="service")
        return service

    async def upsert(self, data: dict) -> Agency:
        """Create or update an agency and its services from a plain dict (demo data, admin import)."""
        session = self.session
        agency = await session.scalar(select(Agency).where(Agency.slug == data["slug"]))
        if agency is None:
            agency = Agency(slug=data["slug"])
            session.add(agency)
        for key in ("name_ar", "name_en", "description_ar", "description_en", "sla_days"):
            if key in data:
                setattr(agency, key, data[key])
        await session.flush()
        existing = {s.slug: s for s in (await session.scalars(
            select(Service).where(Service.agency_id == agency.id))).all()}
        for item in data.get("services", []):
            service = existing.get(item["slug"]) or Service(agency_id=agency.id, slug=item["slug"])
            for key in ("name_ar", "name_en", "description_ar", "channel"):
                if key in item:
                    setattr(service, key, item[key])
            session.add(service)
        await session.flush()
        return agency
