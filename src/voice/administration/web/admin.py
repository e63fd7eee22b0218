"""Administration pages: agencies and e-services, people, and the audit view (platform administrators
everything; agency administrators their own agency)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.accounts.models import Role, User
from voice.administration.audit import AuditFilter, AuditService
from voice.administration.catalogue import FEEDBACK_KINDS, CatalogueAdminService
from voice.administration.people import ACTIONS, Invitation, PeopleService
from voice.catalogue.models import Channel
from voice.errors import DomainError
from voice.ids import MAX_ID
from voice.web.auth import agency_admin
from voice.web.forms import FormData, field, redirect_to

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
DEPENDENCIES = {"catalogue": Provide(create_service_provider(CatalogueAdminService)),
                "people": Provide(create_service_provider(PeopleService)),
                "audit_log": Provide(create_service_provider(AuditService))}
_AGENCY_FORM = ("slug", "name_ar", "name_en", "description_ar", "description_en", "contact_email", "sla_days",
                "is_active", *(f"sla_{k}" for k in FEEDBACK_KINDS))
_SERVICE_FORM = ("slug", "name_ar", "name_en", "description_ar", "channel", "sla_days", "is_active")


def _form(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {k: field(data, k) for k in names if k in data}


def _edit_form(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """An edit form: an unticked checkbox sends nothing, so its absence means "off" (a hidden "0"
    beside the box would send the field twice, which the input checks refuse)."""
    return {**_form(data, names), "is_active": "1" if field(data, "is_active") else "0"}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None


class AdminPages(Controller):
    path = "/admin"
    guards = [agency_admin]  # agency administrators and platform administrators; services scope the rest
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="admin")
    async def home(self, request: Request, catalogue: CatalogueAdminService, people: PeopleService) -> Template:
        user: User = request.user
        return Template("admin/home.html", context={
            "agencies": await catalogue.agencies_for(user), "people": len(await people.people(user))})

    # ----- agencies ---------------------------------------------------------------------------

    async def _agencies_page(self, request: Request, catalogue: CatalogueAdminService, form: dict, errors: dict,
                             status: int = 200) -> Template:
        return Template("admin/agencies.html", status_code=status, context={
            "agencies": await catalogue.agencies_for(request.user), "form": form, "errors": errors,
            "kinds": FEEDBACK_KINDS})

    @get("/agencies", name="admin_agencies")
    async def agencies(self, request: Request, catalogue: CatalogueAdminService) -> Template:
        return await self._agencies_page(request, catalogue, {}, {})

    @post("/agencies", name="admin_agency_create", status_code=303)
    async def create_agency(self, request: Request, data: FormData, catalogue: CatalogueAdminService) -> Any:
        form = _form(data, _AGENCY_FORM)
        try:
            agency = await catalogue.create_agency(request.user, form)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._agencies_page(request, catalogue, form, exc.errors, 422)
        return redirect_to(request, "admin_agency", slug=agency.slug, query={"saved": 1})

    async def _agency_page(self, request: Request, slug: str, catalogue: CatalogueAdminService,
                           audit_log: AuditService, status: int = 200, **context: Any) -> Template:
        agency = await catalogue.agency(request.user, slug)
        history = await audit_log.events(request.user, AuditFilter(agency=agency.slug))
        return Template("admin/agency.html", status_code=status, context={
            "agency": agency, "history": history[:30], "kinds": FEEDBACK_KINDS, "channels": list(Channel),
            "form": {}, "errors": {}, "service_form": {}, "service_errors": {}, "saved": False, **context})

    @get("/agencies/{slug:str}", name="admin_agency")
    async def agency(self, request: Request, slug: str, catalogue: CatalogueAdminService, audit_log: AuditService,
                     saved: str | None = None) -> Template:
        return await self._agency_page(request, slug, catalogue, audit_log, saved=bool(saved))

    @post("/agencies/{slug:str}", name="admin_agency_update", status_code=303)
    async def update_agency(self, request: Request, slug: str, data: FormData, catalogue: CatalogueAdminService,
                            audit_log: AuditService) -> Any:
        form = _edit_form(data, _AGENCY_FORM)
        try:
            agency = await catalogue.update_agency(request.user, slug, form)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._agency_page(request, slug, catalogue, audit_log, 422, form=form, errors=exc.errors)
        return redirect_to(request, "admin_agency", slug=agency.slug, query={"saved": 1})

    @post("/agencies/{slug:str}/services", name="admin_service_create", status_code=303)
    async def add_service(self, request: Request, slug: str, data: FormData, catalogue: CatalogueAdminService,
                          audit_log: AuditService) -> Any:
        form = _form(data, _SERVICE_FORM)
        try:
            await catalogue.add_service(request.user, slug, form)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._agency_page(request, slug, catalogue, audit_log, 422, service_form=form,
                                           service_errors=exc.errors)
        return redirect_to(request, "admin_agency", slug=slug, query={"saved": 1}, anchor="services")

    @post("/agencies/{slug:str}/services/{service:str}", name="admin_service_update", status_code=303)
    async def update_service(self, request: Request, slug: str, service: str, data: FormData,
                             catalogue: CatalogueAdminService, audit_log: AuditService) -> Any:
        move = field(data, "move")
        try:
            if move in ("up", "down"):
                await catalogue.move_service(request.user, slug, service, -1 if move == "up" else 1)
            else:
                await catalogue.update_service(request.user, slug, service, _edit_form(data, _SERVICE_FORM))
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._agency_page(request, slug, catalogue, audit_log, 422, service_errors=exc.errors)
        return redirect_to(request, "admin_agency", slug=slug, query={"saved": 1}, anchor="services")

    # ----- people -----------------------------------------------------------------------------

    async def _people_page(self, request: Request, people: PeopleService, catalogue: CatalogueAdminService,
                           form: dict, errors: dict, status: int = 200, **filters: str) -> Template:
        return Template("admin/people.html", status_code=status, context={
            "people": await people.people(request.user, **filters), "filters": filters,
            "agencies": await catalogue.agencies_for(request.user), "form": form, "errors": errors,
            "roles": [r for r in Role if request.user.is_admin or r.is_agency], "invited": None})

    @get("/people", name="admin_people")
    async def people_list(self, request: Request, people: PeopleService, catalogue: CatalogueAdminService,
                          agency: str = "", role: str = "", q: str = "") -> Template:
        return await self._people_page(request, people, catalogue, {}, {}, agency=agency[:64], role=role[:32],
                                       q=q[:100])

    @post("/people", name="admin_invite", status_code=303)
    async def invite(self, request: Request, data: FormData, people: PeopleService,
                     catalogue: CatalogueAdminService) -> Any:
        form = {k: field(data, k) for k in ("email", "role", "agency", "full_name")}
        try:
            user = await people.invite(request.user, Invitation(**form))
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._people_page(request, people, catalogue, form, exc.errors, 422)
        return redirect_to(request, "admin_person", user_id=user.id, query={"invited": 1})

    @get("/people/{user_id:int}", name="admin_person")
    async def person(self, request: Request, user_id: Id, people: PeopleService, catalogue: CatalogueAdminService,
                     audit_log: AuditService, invited: str | None = None, done: str | None = None) -> Template:
        person = await people.person(request.user, user_id)
        return Template("admin/person.html", context={
            "person": person, "agencies": await catalogue.agencies_for(request.user),
            "roles": [r for r in Role if request.user.is_admin or r.is_agency], "actions": ACTIONS,
            "history": await audit_log.events(request.user, AuditFilter(target=f"user:{person.id}")),
            "invited": bool(invited), "done": done if done in ACTIONS or done == "role" else None, "errors": {}})

    @post("/people/{user_id:int}/role", name="admin_person_role", status_code=303)
    async def role(self, request: Request, user_id: Id, data: FormData, people: PeopleService) -> Redirect:
        await people.change_role(request.user, user_id, field(data, "role"), field(data, "agency"))
        return redirect_to(request, "admin_person", user_id=user_id, query={"done": "role"})

    @post("/people/{user_id:int}/{action:str}", name="admin_person_action", status_code=303)
    async def act(self, request: Request, user_id: Id, action: str, people: PeopleService) -> Redirect:
        await people.act(request.user, user_id, action[:32])
        return redirect_to(request, "admin_person", user_id=user_id, query={"done": action[:32]})

    # ----- audit ------------------------------------------------------------------------------

    @get("/audit", name="admin_audit")
    async def audit(self, request: Request, audit_log: AuditService, actor: str = "", action: str = "",
                    agency: str = "", target: str = "", since: str | None = None, until: str | None = None,
                    offset: Annotated[int, Parameter(ge=0, le=100_000)] = 0) -> Template:
        f = AuditFilter(actor=actor[:254], action=action[:64], agency=agency[:64], target=target[:130],
                        since=_date(since), until=_date(until))
        return Template("admin/audit.html", context={"rows": await audit_log.events(request.user, f, offset),
                                                     "f": f, "offset": offset})
