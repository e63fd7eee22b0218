"""Which agency a workspace request acts for."""

from __future__ import annotations

from voice.accounts.models import Role, User
from voice.errors import NotFound
from voice.i18n import _


def agency_of(user: User, requested: int | None = None) -> int:
    """The agency a request acts for: the member's own; a platform admin may name any."""
    if user.role is Role.ADMIN and requested:
        return requested
    if user.agency_id is None:
        raise NotFound(_("Your account is not attached to an agency."))
    return user.agency_id
