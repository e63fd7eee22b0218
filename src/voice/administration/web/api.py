"""The admin API for integrators (/api/v1/admin/): agencies and e-services, people, the audit trail.
The same services as the pages; a token of anyone but an administrator gets 403, another agency's
records 404."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import Parameter

from voice.accounts.models import Role, User
from voice.accounts.services import FULL_NAME
from voice.administration.audit import AuditFilter, AuditService
from voice.administration.catalogue import FEEDBACK_KINDS, NAME_MIN, SLA_MAX, SLA_MIN, CatalogueAdminService
from voice.administration.people import ACTIONS, Invitation, PeopleService
from voice.administration.web.admin import DEPENDENCIES
from voice.catalogue.models import SLUG, Agency, Channel, Service
from voice.ids import MAX_ID
from voice.web.auth import agency_admin
from voice.web.openapi import documented, one_of, refusals, whole

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
# The rules the catalogue and people services apply, stated on the fields they check.
Slug = Annotated[str, documented(pattern=whole(SLUG))]
Name = Annotated[str, documented(min_length=NAME_MIN)]
_SLA = {"type": "integer", "minimum": SLA_MIN, "maximum": SLA_MAX}
SlaDays = Annotated[int, documented(minimum=SLA_MIN, maximum=SLA_MAX)]
SlaByKind = Annotated[dict[str, int], documented(properties=dict.fromkeys(FEEDBACK_KINDS, _SLA),
                                                 additional_properties=False)]
EmailOrEmpty = Annotated[str, documented(any_of=[{"maxLength": 0}, {"format": "email"}])]
SlugOrEmpty = Annotated[str, documented(any_of=[{"maxLength": 0}, {"pattern": whole(SLUG)}])]
FullName = Annotated[str, documented(any_of=[{"maxLength": 0},
                                             {"minLength": FULL_NAME[0], "maxLength": FULL_NAME[-1]}])]
ServiceChannel = Annotated[str, one_of(Channel)]


class AgencyIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name_ar: Name
    name_en: Name
    sla_days: SlaDays = 5
    description_ar: str = ""
    description_en: str = ""
    contact_email: EmailOrEmpty = ""
    sla_by_kind: SlaByKind = msgspec.field(default_factory=dict)


class AgencyPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug | msgspec.UnsetType = msgspec.UNSET
    name_ar: Name | msgspec.UnsetType = msgspec.UNSET
    name_en: Name | msgspec.UnsetType = msgspec.UNSET
    sla_days: SlaDays | msgspec.UnsetType = msgspec.UNSET
    description_ar: str | msgspec.UnsetType = msgspec.UNSET
    description_en: str | msgspec.UnsetType = msgspec.UNSET
    contact_email: EmailOrEmpty | msgspec.UnsetType = msgspec.UNSET
    sla_by_kind: SlaByKind | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class ServiceIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name_ar: Name
    name_en: Name
    channel: ServiceChannel = Channel.WEB.value
    description_ar: str = ""
    sla_days: SlaDays | None = None


class ServicePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    slug: Slug | msgspec.UnsetType = msgspec.UNSET
    name_ar: Name | msgspec.UnsetType = msgspec.UNSET
    name_en: Name | msgspec.UnsetType = msgspec.UNSET
    channel: ServiceChannel | msgspec.UnsetType = msgspec.UNSET
    description_ar: str | msgspec.UnsetType = msgspec.UNSET
    sla_days: SlaDays | msgspec.UnsetType | None = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class ServiceOut(msgspec.Struct):
    slug: str
    name_ar: str
    name_en: str
    channel: str
    position: int
    sla_days: int | None
    is_active: bool


class AgencyOut(msgspec.Struct):
    slug: str
    name_ar: str
    name_en: str
    sla_days: int
    sla_by_kind: dict[str, int]
    contact_email: str
    is_active: bool
    services: list[ServiceOut]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, documented(format="email")]
    role: Annotated[str, one_of(Role)]
    agency: SlugOrEmpty = ""  # required for the agency roles
    full_name: FullName = ""


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, one_of(Role)] | None = None
    agency: SlugOrEmpty = ""
    action: Annotated[str, one_of(ACTIONS)] | None = None


class UserOut(msgspec.Struct):
    id: int
    email: str
    full_name: str
    role: str
    agency: str | None
    is_active: bool
    email_verified: bool
    two_factor: bool
    last_sign_in: str | None


class AuditOut(msgspec.Struct):
    at: str
    actor: str | None
    action: str
    target_type: str
    target_id: str
    agency: str | None
    detail: dict[str, Any]


# What the services refuse beyond what the request schemas state (the 422's ``errors`` name the field).
_NAMES = "`name_ar`, `name_en`: lengths count characters once spaces are collapsed and control characters dropped"
_AGENCY_REFUSALS = (f"`slug`: not used by another agency; {_NAMES}; `contact_email`: a domain that receives mail "
                    "(not a reserved name such as .test).")
_SERVICE_REFUSALS = f"`slug`: not used by another e-service of the agency; {_NAMES}."
_PEOPLE_REFUSALS = ("`email`: no account has it yet, and a domain that receives mail (not a reserved name such as "
                    ".test); `agency`: required for the agency roles, an agency the caller administers; "
                    "`full_name`: lengths count characters once spaces are collapsed.")


def _service(s: Service) -> ServiceOut:
    return ServiceOut(s.slug, s.name_ar, s.name_en, s.channel, s.position, s.sla_days, s.is_active)


def _agency(a: Agency) -> AgencyOut:
    return AgencyOut(a.slug, a.name_ar, a.name_en, a.sla_days, dict(a.sla_by_kind), a.contact_email, a.is_active,
                     [_service(s) for s in a.services])


def _user(u: User) -> UserOut:
    return UserOut(u.id, u.email, u.full_name, u.role.value, u.agency.slug if u.agency else None, u.is_active,
                   u.email_verified, u.has_two_factor, u.last_login_at.isoformat() if u.last_login_at else None)


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}


class AdminApi(Controller):
    path = "/api/v1/admin"
    tags = ["administration"]
    guards = [agency_admin]
    dependencies = DEPENDENCIES

    @get("/agencies", summary="Agencies the caller administers, with all their e-services")
    async def agencies(self, request: Request, catalogue: CatalogueAdminService) -> list[AgencyOut]:
        return [_agency(a) for a in await catalogue.agencies_for(request.user)]

    @post("/agencies", summary="Create an agency (platform administrators)", status_code=201,
          responses=refusals(_AGENCY_REFUSALS))
    async def create_agency(self, request: Request, data: AgencyIn, catalogue: CatalogueAdminService) -> AgencyOut:
        agency = await catalogue.create_agency(request.user, msgspec.structs.asdict(data))
        await catalogue.session.refresh(agency, ["services"])
        return _agency(agency)

    @patch("/agencies/{slug:str}", summary="Change an agency (names, slug, contact, SLAs, active)",
           responses=refusals(_AGENCY_REFUSALS))
    async def update_agency(self, request: Request, slug: str, data: AgencyPatch,
                            catalogue: CatalogueAdminService) -> AgencyOut:
        return _agency(await catalogue.update_agency(request.user, slug, _given(data)))

    @post("/agencies/{slug:str}/services", summary="Add an e-service to an agency", status_code=201,
          responses=refusals(_SERVICE_REFUSALS))
    async def add_service(self, request: Request, slug: str, data: ServiceIn,
                          catalogue: CatalogueAdminService) -> ServiceOut:
        given = msgspec.structs.asdict(data)
        if given["sla_days"] is None:
            given.pop("sla_days")
        return _service(await catalogue.add_service(request.user, slug, given))

    @patch("/agencies/{slug:str}/services/{service:str}", summary="Change an e-service (or deactivate it)",
           responses=refusals(_SERVICE_REFUSALS))
    async def update_service(self, request: Request, slug: str, service: str, data: ServicePatch,
                             catalogue: CatalogueAdminService) -> ServiceOut:
        given = _given(data)
        if given.get("sla_days", 0) is None:
            given["sla_days"] = ""
        return _service(await catalogue.update_service(request.user, slug, service, given))

    @get("/users", summary="People the caller administers")
    async def users(self, request: Request, people: PeopleService, agency: str = "", role: str = "",
                    q: str = "") -> list[UserOut]:
        return [_user(u) for u in await people.people(request.user, agency[:64], role[:32], q[:100])]

    @post("/users", summary="Invite a person by e-mail (they set a password or use single sign-on)",
          status_code=201, responses=refusals(_PEOPLE_REFUSALS))
    async def invite(self, request: Request, data: UserIn, people: PeopleService) -> UserOut:
        return _user(await people.invite(request.user, Invitation(**msgspec.structs.asdict(data))))

    @patch("/users/{user_id:int}", summary="Change a person's role and agency, or act on the account",
           responses=refusals(_PEOPLE_REFUSALS))
    async def update_user(self, request: Request, user_id: Id, data: UserPatch, people: PeopleService) -> UserOut:
        user = await people.person(request.user, user_id)
        if data.role is not None:
            user = await people.change_role(request.user, user_id, data.role, data.agency)
        if data.action is not None:
            user = await people.act(request.user, user_id, data.action[:32])
        return _user(user)

    @get("/audit", summary="The audit trail, newest first (filter by actor, action prefix, agency, target)")
    async def audit(self, request: Request, audit_log: AuditService, actor: str = "", action: str = "",
                    agency: str = "", target: str = "",
                    offset: Annotated[int, Parameter(ge=0, le=100_000)] = 0) -> list[AuditOut]:
        rows = await audit_log.events(request.user, AuditFilter(actor[:254], action[:64], agency[:64], target[:130]),
                                      offset)
        return [AuditOut(r.event.created_at.isoformat(), r.actor_email, r.event.action, r.event.target_type,
                         r.event.target_id, r.agency_slug, r.event.detail) for r in rows]
