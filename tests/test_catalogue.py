"""The public catalogue API."""

from __future__ import annotations

import httpx

from tests.factories import make_agency


async def test_agencies_api_lists_agencies_with_services(client: httpx.AsyncClient, db) -> None:
    await make_agency(db, "passports", name_ar="المديرية العامة للجوازات", name_en="General Directorate of Passports")
    response = await client.get("/api/v1/agencies")
    assert response.status_code == 200
    [agency] = response.json()
    assert agency["slug"] == "passports"
    assert agency["name_ar"] == "المديرية العامة للجوازات"
    assert {s["slug"] for s in agency["services"]} == {"renewal", "booking"}
    assert all({"name_ar", "name_en"} <= set(s) for s in agency["services"])


async def test_inactive_services_are_hidden_but_never_deleted(client: httpx.AsyncClient, db) -> None:
    from sqlalchemy import func, select

    from voice.catalogue.models import Service

    agency = await make_agency(db, "passports")
    retired = await db.scalar(select(Service).where(Service.agency_id == agency.id, Service.slug == "booking"))
    retired.is_active = False
    await db.commit()
    for path in ("/api/v1/agencies", "/feedback/new", "/feedback"):
        response = await client.get(path)
        assert response.status_code == 200
    listed = (await client.get("/api/v1/agencies")).json()[0]["services"]
    assert [s["slug"] for s in listed] == ["renewal"]
    assert await db.scalar(select(func.count()).select_from(Service)) == 2


async def test_agency_profile_shows_its_services_and_active_team_only(client: httpx.AsyncClient, db) -> None:
    from tests.conftest import post_form
    from tests.factories import PASSWORD, make_user
    from voice.accounts.models import Role

    agency = await make_agency(db, "passports", name_ar="المديرية العامة للجوازات")
    other = await make_agency(db, "traffic")
    boss = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    boss.full_name = "مديرة الجوازات"
    left = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    left.full_name, left.is_active = "موظف غادر الجهة", False
    outsider = await make_user(db, Role.AGENCY_STAFF, agency=other)
    outsider.full_name = "موظف المرور"
    await db.commit()
    assert (await post_form(client, "/signin", {"email": boss.email, "password": PASSWORD})).status_code == 303
    page = await client.get("/agency/profile")
    assert page.status_code == 200
    assert "المديرية العامة للجوازات" in page.text and "حجز موعد" in page.text
    assert "مديرة الجوازات" in page.text
    assert "موظف غادر الجهة" not in page.text and "موظف المرور" not in page.text
