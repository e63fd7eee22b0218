"""Builders for test records, going through the same domain services the app uses."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.accounts.services import TokenService, UserService
from voice.administration.catalogue import CatalogueAdminService
from voice.catalogue.models import Agency

PASSWORD = "a long test passphrase"


# Who builds test records through the administration service: a platform administrator that is nobody.
SYSTEM = User(role=Role.ADMIN, full_name="tests", email="tests@voice.local", is_active=True)


async def make_agency(db: AsyncSession, slug: str | None = None, **fields: object) -> Agency:
    """An agency with two e-services, made by the service behind the administration pages."""
    slug = slug or f"agency-{uuid.uuid4().hex[:6]}"
    catalogue = CatalogueAdminService(session=db)
    services = fields.pop("services", [
        {"slug": "renewal", "name_ar": "تجديد", "name_en": "Renewal"},
        {"slug": "booking", "name_ar": "حجز موعد", "name_en": "Appointment booking"},
    ])
    agency = await catalogue.create_agency(SYSTEM, {
        "slug": slug, "name_ar": fields.pop("name_ar", f"وزارة {slug}"),
        "name_en": fields.pop("name_en", f"Ministry {slug}"), "sla_days": fields.pop("sla_days", 5), **fields})
    for service in services:  # type: ignore[attr-defined]
        await catalogue.add_service(SYSTEM, slug, service)
    await db.commit()
    await db.refresh(agency, ["services"])
    return agency


async def make_user(db: AsyncSession, role: Role = Role.CITIZEN, agency: Agency | None = None,
                    email: str | None = None, password: str = PASSWORD) -> User:
    user = await UserService(session=db).create_user(
        email=email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.sa",
        password=password, role=role, agency=agency, full_name=f"مستخدم {role.value}",
    )
    await db.commit()
    return user


async def make_token(db: AsyncSession, user: User) -> str:
    token = await TokenService(session=db).issue(user, "test")
    await db.commit()
    return token
