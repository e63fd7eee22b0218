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
