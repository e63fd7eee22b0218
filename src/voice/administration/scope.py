"""Who may administer what: platform administrators everything, agency administrators their own
agency's staff and e-services, nobody else anything. Another agency's records answer 404, never 403,
so their existence does not leak."""

from __future__ import annotations

from voice.accounts.models import Role, User
from voice.catalogue.models import Agency
from voice.errors import Forbidden, NotFound
from voice.i18n import _


def require_administrator(actor: User) -> None:
    if actor.role not in (Role.ADMIN, Role.AGENCY_ADMIN):
        raise Forbidden(_("Only administrators can do this."))


def require_platform_admin(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden(_("Only platform administrators can do this."))


def may_manage_agency(actor: User, agency: Agency | None) -> bool:
    return actor.role is Role.ADMIN or (
        actor.role is Role.AGENCY_ADMIN and agency is not None and actor.agency_id == agency.id)


def require_agency(actor: User, agency: Agency | None) -> Agency:
    require_administrator(actor)
    if agency is None or not may_manage_agency(actor, agency):
        raise NotFound(_("Unknown agency."))
    return agency
