"""The consultations API over HTTP with real tokens: agencies draft, publish, close and answer; people
comment per article; bad input gets a clear 4xx and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency, make_token, make_user
from voice.accounts.models import Role, SubmitterKind
from voice.consultations.access import today
from voice.consultations.models import Consultation, ConsultationComment
from voice.notifications.models import Notification

BODY = {
    "title_ar": "مشروع لائحة اشتراطات المقاهي",
    "summary_ar": "تطرح الأمانة مشروع اللائحة لأخذ المرئيات قبل اعتمادها.",
    "opens_on": today().isoformat(),
    "closes_on": (today() + timedelta(days=21)).isoformat(),
    "articles": [{"number": n, "title": f"المادة {n}", "text": f"نص المادة رقم {n} من مشروع اللائحة."}
                 for n in range(1, 6)],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_whole_loop_through_the_api(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = bearer(await make_token(db, await make_user(db, Role.AGENCY_STAFF, agency=agency)))
    created = await client.post("/api/v1/agency/consultations", json=BODY, headers=staff)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["phase"] == "draft" and len(created.json()["articles"]) == 5
    assert (await client.get(f"/api/v1/consultations/{cid}")).status_code == 404  # drafts are not public
    published = await client.post(f"/api/v1/agency/consultations/{cid}/publish", headers=staff)
    assert published.status_code == 200 and published.json()["phase"] == "open"
    assert [c["id"] for c in (await client.get("/api/v1/consultations")).json()] == [cid]

    person = await make_user(db)
    business = await make_user(db)
    business.kind, business.organisation = SubmitterKind.BUSINESS, "شركة القهوة المختصة"
    await db.commit()
    citizen, shop = bearer(await make_token(db, person)), bearer(await make_token(db, business))
    first = await client.post(f"/api/v1/consultations/{cid}/comments", headers=citizen,
                              json={"article": 2, "stance": "oppose", "body": "المادة تمنع الجلسات الخارجية، راسلوني على a@b.sa"})
    assert first.status_code == 201, first.text
    assert first.json()["article"] == 2 and "a@b.sa" not in first.json()["body"]
    second = await client.post(f"/api/v1/consultations/{cid}/comments", headers=shop,
                               json={"article": 2, "stance": "suggest", "body": "نقترح السماح بالجلسات الخارجية بترخيص"})
    assert second.status_code == 201 and second.json()["organisation"] == "شركة القهوة المختصة"
    again = await client.post(f"/api/v1/consultations/{cid}/comments", headers=citizen,
                              json={"article": 2, "stance": "support", "body": "أغير رأيي إلى التأييد"})
    assert again.status_code == 409
    assert again.json()["detail"] == "سبق أن أبديت رأيك في هذه المادة: يمكنك تعديله."
    shown = (await client.get(f"/api/v1/consultations/{cid}")).json()
    assert [(a["number"], a["oppose"], a["suggest"]) for a in shown["articles"]][1] == (2, 1, 1)

    early = await client.post(f"/api/v1/agency/consultations/{cid}/close", headers=staff, json={})
    assert early.status_code == 422 and "reason" in early.json()["errors"]
    # The window ends; the agency answers.
    await db.execute(update(Consultation).where(Consultation.id == cid).values(
        opens_on=today() - timedelta(days=30), closes_on=today() - timedelta(days=1)))
    await db.commit()
    late = await client.post(f"/api/v1/consultations/{cid}/comments", headers=shop,
                             json={"article": 3, "stance": "support", "body": "تعليق بعد انتهاء المدة"})
    assert late.status_code == 409
    assert (await client.get(f"/api/v1/consultations/{cid}/report")).status_code == 404
    report = await client.post(f"/api/v1/agency/consultations/{cid}/report", headers=staff, json={"articles": [
        {"number": 1, "decision": "kept"},
        {"number": 2, "decision": "amended", "reason": "أخذنا بمقترح الترخيص",
         "amended_text": "يجوز وضع جلسات خارجية بترخيص من الأمانة."},
        {"number": 5, "decision": "removed", "reason": "مكررة مع المادة الأولى"}]})
    assert report.status_code == 200, report.text
    public = (await client.get(f"/api/v1/consultations/{cid}/report")).json()
    assert public["articles_answered"] == 3 and public["draft_articles"] == 5 and public["participants"] == 2
    two = next(a for a in public["articles"] if a["number"] == 2)
    assert two["decision"] == "amended" and two["oppose"] == 1 and "بترخيص" in two["amended_text"]
    assert (await client.get(f"/api/v1/consultations/{cid}")).json()["phase"] == "reported"
    assert await db.scalar(select(func.count()).select_from(Notification)) == 2


async def test_bad_input_gets_a_clear_4xx_and_writes_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = bearer(await make_token(db, await make_user(db, Role.AGENCY_STAFF, agency=agency)))
    citizen = bearer(await make_token(db, await make_user(db)))
    assert (await client.post("/api/v1/agency/consultations", json=BODY)).status_code == 401
    assert (await client.post("/api/v1/agency/consultations", json=BODY, headers=citizen)).status_code == 403
    broken = await client.post("/api/v1/agency/consultations", content=b'{"title_ar": "x",', headers={
        **staff, "Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.headers["content-type"].startswith("application/problem+json")
    extra = await client.post("/api/v1/agency/consultations", json={**BODY, "owner": "me"}, headers=staff)
    assert extra.status_code == 400
    dates = await client.post("/api/v1/agency/consultations", headers={**staff, "Accept-Language": "ar"},
                              json={**BODY, "closes_on": "2020-13-01"})
    assert dates.status_code == 422 and "closes_on" in dates.json()["errors"]
    assert "YYYY-MM-DD" in dates.json()["errors"]["closes_on"]
    duplicate = await client.post("/api/v1/agency/consultations", headers=staff, json={
        **BODY, "articles": [{"number": 1, "text": "نص أول كاف"}, {"number": 1, "text": "نص ثان كاف"}]})
    assert duplicate.status_code == 422
    assert await db.scalar(select(func.count()).select_from(Consultation)) == 0

    cid = (await client.post("/api/v1/agency/consultations", json=BODY, headers=staff)).json()["id"]
    draft_comment = await client.post(f"/api/v1/consultations/{cid}/comments", headers=citizen,
                                      json={"article": 1, "stance": "support", "body": "تعليق على مسودة"})
    assert draft_comment.status_code == 404
    await client.post(f"/api/v1/agency/consultations/{cid}/publish", headers=staff)
    unknown = await client.post(f"/api/v1/consultations/{cid}/comments", headers=citizen,
                                json={"article": 42, "stance": "support", "body": "تعليق على مادة غير موجودة"})
    assert unknown.status_code == 422 and "article" in unknown.json()["errors"]
    stance = await client.post(f"/api/v1/consultations/{cid}/comments", headers=citizen,
                               json={"article": 1, "stance": "love", "body": "موقف غير معروف"})
    assert stance.status_code == 422 and "stance" in stance.json()["errors"]
    anonymous = await client.post(f"/api/v1/consultations/{cid}/comments",
                                  json={"article": 1, "stance": "support", "body": "تعليق دون تسجيل"})
    assert anonymous.status_code == 401
    other = bearer(await make_token(db, await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))))
    assert (await client.post(f"/api/v1/agency/consultations/{cid}/publish", headers=other)).status_code == 404
    open_report = await client.post(f"/api/v1/agency/consultations/{cid}/report", headers=staff,
                                    json={"articles": [{"number": 1, "decision": "kept"}]})
    assert open_report.status_code == 409
    assert await db.scalar(select(func.count()).select_from(ConsultationComment)) == 0


async def test_an_administrator_drafts_for_the_agency_it_names(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """A platform administrator's token belongs to no agency: it names the consulting agency by slug, and can
    then publish the draft. Staff draft for their own agency only. Each refusal is a 422 on `agency`, in the
    reader's language, and writes nothing."""
    from voice.catalogue.models import Agency

    mine = await make_agency(db, "amanah")
    other = await make_agency(db, "traffic")
    closed = await make_agency(db, "closed")
    closed_row = await db.scalar(select(Agency).where(Agency.slug == "closed"))
    closed_row.is_active = False
    await db.commit()
    admin = bearer(await make_token(db, await make_user(db, Role.ADMIN)))
    staff = bearer(await make_token(db, await make_user(db, Role.AGENCY_STAFF, agency=mine)))
    url = "/api/v1/agency/consultations"

    async def refused(body: dict, who: dict[str, str], lang: str = "ar") -> str:
        response = await client.post(url, json=body, headers={**who, "Accept-Language": lang})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        return response.json()["errors"]["agency"]

    assert await refused(BODY, admin) == "حدّد الجهة صاحبة الاستطلاع، فحساب مدير المنصة لا يتبع أي جهة."
    assert await refused(BODY, admin, "en") == (
        "Name the agency that consults: a platform administrator belongs to no agency.")
    assert await refused({**BODY, "agency": "nowhere"}, admin) == "لا توجد جهة نشطة بهذا المعرّف."
    assert await refused({**BODY, "agency": closed.slug}, admin) == "لا توجد جهة نشطة بهذا المعرّف."
    assert await refused({**BODY, "agency": other.slug}, staff) == (
        "لا يمكنك إعداد الاستطلاعات إلا لجهتك: اترك الجهة دون تحديد، أو اذكر معرّف جهتك.")
    # Every problem at once: the agency's with the draft's own.
    both = await client.post(url, json={**BODY, "agency": other.slug, "closes_on": "2020-01-01"}, headers=staff)
    assert both.status_code == 422 and {"agency", "closes_on"} <= set(both.json()["errors"])
    assert await db.scalar(select(func.count()).select_from(Consultation)) == 0

    drafted = await client.post(url, json={**BODY, "agency": other.slug}, headers=admin)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["agency"] == other.slug and drafted.json()["phase"] == "draft"
    published = await client.post(f"{url}/{drafted.json()['id']}/publish", headers=admin)
    assert published.status_code == 200 and published.json()["phase"] == "open"
    own = await client.post(url, json={**BODY, "agency": mine.slug}, headers=staff)  # naming one's own is fine
    assert own.status_code == 201 and own.json()["agency"] == mine.slug
    implied = await client.post(url, json=BODY, headers=staff)
    assert implied.status_code == 201 and implied.json()["agency"] == mine.slug
    described = (await client.get("/schema/openapi.json")).json()
    field = described["components"]["schemas"]["ConsultationIn"]["properties"]["agency"]
    create = described["paths"][url]["post"]
    assert "agency" not in described["components"]["schemas"]["ConsultationIn"].get("required", [])
    assert any(choice.get("pattern") for choice in [field, *field.get("oneOf", [])])
    assert "`agency`" in create["responses"]["422"]["description"] and "administrator" in create["description"]
    rows = dict((await db.execute(select(Consultation.id, Consultation.agency_id))).all())
    assert rows == {drafted.json()["id"]: other.id, own.json()["id"]: mine.id, implied.json()["id"]: mine.id}
