"""Agencies and their e-services as administrators keep them: create, edit, reorder, deactivate, with
every change audited (the agency's history is its audit trail)."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from voice.accounts.models import User
from voice.accounts.services import audit, normalize_email, one_line
from voice.administration.scope import require_agency, require_platform_admin
from voice.catalogue.models import SLUG, Agency, Channel, Service
from voice.db import DomainService
from voice.errors import NotFound, ValidationFailed
from voice.i18n import _, fmt_number, parse_int

SLA_MIN, SLA_MAX = 1, 365
NAME_MIN = 2  # letters in an agency's or an e-service's name, once spaces are collapsed
FEEDBACK_KINDS = ("complaint", "suggestion", "praise", "question")
_AGENCY_FIELDS = ("slug", "name_ar", "name_en", "description_ar", "description_en", "contact_email", "sla_days",
                  "is_active", "sla_by_kind")
_SERVICE_FIELDS = ("slug", "name_ar", "name_en", "description_ar", "channel", "sla_days", "is_active")


def _text(value: Any, limit: int = 200) -> str:
    return one_line(value, limit)


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "on", "true", "yes")


def _sla(value: Any, name: str, errors: dict[str, str], optional: bool = False) -> int | None:
    raw = str(value if value is not None else "").strip()
    if optional and raw == "":
        return None
    days = parse_int(raw, SLA_MIN, SLA_MAX)
    if days is None:
        errors[name] = _("An SLA is a whole number of days from %(min)s to %(max)s.", min=fmt_number(SLA_MIN),
                         max=fmt_number(SLA_MAX))
    return days



def _names(data: dict[str, Any], creating: bool, values: dict[str, Any], errors: dict[str, str]) -> None:
    """The Arabic and English names of an agency or an e-service: both required, two letters at least."""
    for key, message in (("name_ar", _("Enter the Arabic name.")), ("name_en", _("Enter the English name."))):
        if creating or key in data:
            values[key] = _text(data.get(key))
            if len(values[key]) < NAME_MIN:
                errors[key] = message

class CatalogueAdminService(DomainService[Agency]):
    class Repo(SQLAlchemyAsyncRepository[Agency]):
        model_type = Agency

    repository_type = Repo

    # ----- reading ---------------------------------------------------------------------------

    async def agencies_for(self, actor: User) -> list[Agency]:
        stmt = select(Agency).order_by(Agency.name_ar)
        if not actor.is_admin:
            stmt = stmt.where(Agency.id == (actor.agency_id or 0))
        return list((await self.session.scalars(stmt)).all())

    async def agency(self, actor: User, slug: str) -> Agency:
        found = await self.session.scalar(select(Agency).where(Agency.slug == slug[:64]))
        return require_agency(actor, found)

    async def service(self, actor: User, agency_slug: str, service_slug: str) -> Service:
        agency = await self.agency(actor, agency_slug)
        found = await self.session.scalar(select(Service).where(Service.agency_id == agency.id,
                                                                Service.slug == service_slug[:64]))
        if found is None:
            raise NotFound(_("Unknown service."))
        return found

    # ----- agencies --------------------------------------------------------------------------

    async def create_agency(self, actor: User, data: dict[str, Any]) -> Agency:
        require_platform_admin(actor)
        agency = Agency(is_active=True, sla_by_kind={})
        values = await self._agency_values(agency, {"sla_days": 5, **data}, creating=True)
        for key, value in values.items():
            setattr(agency, key, value)
        self.session.add(agency)
        await self.session.flush()
        await audit(self.session, "agency.create", actor=actor, target_type="agency", target_id=agency.slug,
                    agency_id=agency.id, **{k: v for k, v in values.items() if k != "sla_by_kind"})
        return agency

    async def update_agency(self, actor: User, slug: str, data: dict[str, Any]) -> Agency:
        agency = await self.agency(actor, slug)
        if not actor.is_admin:  # an agency's own administrator edits its contact and SLAs, not its identity
            data = {k: v for k, v in data.items() if k not in ("slug", "is_active", "name_ar", "name_en")}
        values = await self._agency_values(agency, data, creating=False)
        changes = {k: [getattr(agency, k), v] for k, v in values.items() if getattr(agency, k) != v}
        for key, value in values.items():
            setattr(agency, key, value)
        await self.session.flush()
        if changes:
            await audit(self.session, "agency.update", actor=actor, target_type="agency", target_id=agency.slug,
                        agency_id=agency.id, changes=changes)
        return agency

    async def _agency_values(self, agency: Agency, data: dict[str, Any], creating: bool) -> dict[str, Any]:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if creating or "slug" in data:
            slug = str(data.get("slug") or "").strip().lower()
            if not SLUG.fullmatch(slug):
                errors["slug"] = _("A slug is 1 to 64 lower-case Latin letters, digits and dashes.")
            elif slug != agency.slug and await self.session.scalar(select(Agency.id).where(Agency.slug == slug)):
                errors["slug"] = _("Another agency already uses this slug.")
            values["slug"] = slug
        _names(data, creating, values, errors)
        for key in ("description_ar", "description_en"):
            if key in data:
                values[key] = str(data.get(key) or "").replace("\x00", "").strip()[:4000]
        if data.get("contact_email"):
            try:
                values["contact_email"] = normalize_email(str(data["contact_email"]))
            except ValidationFailed:
                errors["contact_email"] = _("Enter a valid e-mail address.")
        elif "contact_email" in data:
            values["contact_email"] = ""
        if creating or "sla_days" in data:
            values["sla_days"] = _sla(data.get("sla_days"), "sla_days", errors)
        if "sla_by_kind" in data or any(f"sla_{k}" in data for k in FEEDBACK_KINDS):
            given = data.get("sla_by_kind") if isinstance(data.get("sla_by_kind"), dict) else {}
            by_kind = {}
            for kind in FEEDBACK_KINDS:
                raw = given.get(kind, data.get(f"sla_{kind}"))
                days = _sla(raw, f"sla_{kind}", errors, optional=True)
                if days is not None:
                    by_kind[kind] = days
            unknown = set(given) - set(FEEDBACK_KINDS)
            if unknown:
                errors["sla_by_kind"] = _("Unknown feedback kind: %(kind)s", kind=sorted(unknown)[0][:32])
            values["sla_by_kind"] = by_kind
        if "is_active" in data:
            values["is_active"] = _flag(data["is_active"])
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        return values

    # ----- e-services ------------------------------------------------------------------------

    async def add_service(self, actor: User, agency_slug: str, data: dict[str, Any]) -> Service:
        agency = await self.agency(actor, agency_slug)
        service = Service(agency_id=agency.id, is_active=True, channel=Channel.WEB.value)
        values = await self._service_values(agency, service, {"channel": "web", **data}, creating=True)
        for key, value in values.items():
            setattr(service, key, value)
        service.position = int(await self.session.scalar(
            select(func.coalesce(func.max(Service.position), -1) + 1).where(Service.agency_id == agency.id)) or 0)
        self.session.add(service)
        await self.session.flush()
        await audit(self.session, "service.create", actor=actor, target_type="service",
                    target_id=f"{agency.slug}/{service.slug}", agency_id=agency.id, **values)
        return service

    async def update_service(self, actor: User, agency_slug: str, service_slug: str, data: dict[str, Any]) -> Service:
        service = await self.service(actor, agency_slug, service_slug)
        values = await self._service_values(service.agency, service, data, creating=False)
        changes = {k: [getattr(service, k), v] for k, v in values.items() if getattr(service, k) != v}
        for key, value in values.items():
            setattr(service, key, value)
        await self.session.flush()
        if changes:
            await audit(self.session, "service.update", actor=actor, target_type="service",
                        target_id=f"{agency_slug}/{service.slug}", agency_id=service.agency_id, changes=changes)
        return service

    async def move_service(self, actor: User, agency_slug: str, service_slug: str, step: int) -> None:
        """Move an e-service one place up (-1) or down (+1) in its agency's list."""
        service = await self.service(actor, agency_slug, service_slug)
        ordered = list((await self.session.scalars(select(Service).where(Service.agency_id == service.agency_id)
                                                   .order_by(Service.position, Service.name_ar))).all())
        i = ordered.index(service)
        j = max(0, min(len(ordered) - 1, i + (1 if step > 0 else -1)))
        ordered[i], ordered[j] = ordered[j], ordered[i]
        for position, item in enumerate(ordered):
            item.position = position
        await self.session.flush()
        await audit(self.session, "service.move", actor=actor, target_type="service",
                    target_id=f"{agency_slug}/{service_slug}", agency_id=service.agency_id, to=j)

    async def _service_values(self, agency: Agency, service: Service, data: dict[str, Any],
                              creating: bool) -> dict[str, Any]:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if creating or "slug" in data:
            slug = str(data.get("slug") or "").strip().lower()
            if not SLUG.fullmatch(slug):
                errors["slug"] = _("A slug is 1 to 64 lower-case Latin letters, digits and dashes.")
            elif slug != service.slug and await self.session.scalar(select(Service.id).where(
                    Service.agency_id == agency.id, Service.slug == slug)):
                errors["slug"] = _("This agency already has an e-service with this slug.")
            values["slug"] = slug
        _names(data, creating, values, errors)
        if "description_ar" in data:
            values["description_ar"] = str(data.get("description_ar") or "").replace("\x00", "").strip()[:4000]
        if creating or "channel" in data:
            channel = str(data.get("channel") or "").strip()
            if channel not in {c.value for c in Channel}:
                errors["channel"] = _("Choose where the e-service is delivered.")
            values["channel"] = channel
        if "sla_days" in data:
            values["sla_days"] = _sla(data.get("sla_days"), "sla_days", errors, optional=True)
        if "is_active" in data:
            values["is_active"] = _flag(data["is_active"])
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        return values
