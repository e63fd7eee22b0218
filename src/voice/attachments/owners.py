"""What an attachment's owner tells the attachments slice, registered by the owner's slice (as theme
sources are): which agency owns the item now (a transfer moves its files with it), whether the item
itself is on a public page, and who else may read its files (judges of an award entry). The attachments
slice never imports the slices it serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from voice.accounts.models import User


@dataclass(frozen=True)
class OwnerState:
    agency_id: int | None
    public: bool  # the item is shown on public pages


@dataclass(frozen=True)
class Owner:
    state: Callable[[AsyncSession, int], Awaitable[OwnerState | None]]
    # Others who may read the item's files (beyond its agency, administrators and the uploader).
    readers: Callable[[AsyncSession, User, int], Awaitable[bool]] | None = None
    # Who may publish or remove its files besides administrators; None: the owning agency's staff.
    managers: Callable[[AsyncSession, User, int], Awaitable[bool]] | None = None


_OWNERS: dict[str, Owner] = {}


def register(kind: str, owner: Owner) -> None:
    _OWNERS[kind] = owner


def owner(kind: str) -> Owner | None:
    return _OWNERS.get(kind)
