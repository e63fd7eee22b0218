"""The public catalogue: agencies and their e-services, for pickers and API clients."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.response import Template
from msgspec import Struct

from voice.accounts.models import User
from voice.accounts.services import UserService
from voice.catalogue.services import AgencyService
from voice.errors import NotFound
from voice.i18n import _
from voice.web.auth import agency_member


class ServiceOut(Struct):
    slug: str
    name_ar: str
    name_en: str
    channel: str


class AgencyOut(Struct):
    slug: str
    name_ar: str
    name_en: str
    sla_days: int
    services: list[ServiceOut]


class CatalogueApi(Controller):
    path = "/api/v1/agencies"
    tags = ["catalogue"]
    dependencies = {"agencies": Provide(create_service_provider(AgencyService))}

    @get("/", summary="Agencies with their e-services")
    async def list_agencies(self, agencies: AgencyService) -> list[AgencyOut]:
        return [
            AgencyOut(
                slug=a.slug, name_ar=a.name_ar, name_en=a.name_en, sla_days=a.sla_days,
                services=[ServiceOut(slug=s.slug, name_ar=s.name_ar, name_en=s.name_en, channel=s.channel)
                          for s in a.services],
            )
            for a in await agencies.catalogue()
        ]


class AgencyHomeController(Controller):
    """The agency's own landing page: its profile, e-services and team (agency staff only)."""

    path = "/agency/profile"
    guards = [agency_member]
    dependencies = {"agencies": Provide(create_service_provider(AgencyService)),
                    "users": Provide(create_service_provider(UserService))}

    @get("/", name="agency_profile", include_in_schema=False)
    async def home(self, request: Request, agencies: AgencyService, users: UserService) -> Template:
        user: User = request.user
        if user.agency_id is None:  # a platform admin has no agency of their own
            raise NotFound(_("Your account is not attached to an agency."))
        agency = await agencies.get(user.agency_id)
        return Template("catalogue/agency_home.html", context={"agency": agency, "team": await users.team(agency.id)})
