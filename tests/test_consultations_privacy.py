"""Personal data rights over consultation comments, through HTTP: a business commenter finds its stances and
replies on "my contributions" and in "my data" (as written), and erasing the account anonymises them."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import post_form
from tests.factories import make_agency, make_user
from tests.test_consultations_pages import draft_form, sign_in
from voice.accounts.models import Role, SubmitterKind
from voice.consultations.models import ConsultationComment

PHONE = "0561234567"


async def test_consultation_comments_in_my_contributions_my_data_and_erasure(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    form = {**draft_form(), "audience": ["individual", "business"]}
    cid = int((await post_form(client, "/agency/consultations", form)).headers["location"].rsplit("/", 1)[1])
    assert (await post_form(client, f"/agency/consultations/{cid}/publish", {})).status_code == 303

    business = await make_user(db)
    business.kind, business.organisation, business.display_name = SubmitterKind.BUSINESS, "مؤسسة الريادة للمقاولات", "سارة"
    await db.commit()
    other = await make_user(db)
    await sign_in(client, other.email)
    assert (await post_form(client, f"/consultations/{cid}/comments", {
        "article": "1", "stance": "support", "body": "أؤيد توحيد الإجراءات في كل الأمانات"})).status_code == 303
    theirs = await db.scalar(select(ConsultationComment.id).where(ConsultationComment.author_id == other.id))

    await sign_in(client, business.email)
    assert (await post_form(client, f"/consultations/{cid}/comments", {
        "article": "2", "stance": "suggest", "body": f"نقترح ثلاثة أيام عمل بدل خمسة، للتواصل {PHONE}"})).status_code == 303
    assert (await post_form(client, f"/consultations/{cid}/replies", {
        "parent_id": str(theirs), "body": "نتفق معكم، والتوحيد يختصر علينا الكثير"})).status_code == 303

    page = await client.get("/account/contributions")
    assert page.status_code == 200
    section = page.text.split('data-testid="my-consultation-comments"', 1)[1].split("</ul>", 1)[0]
    assert "نقترح ثلاثة أيام عمل" in section and "نتفق معكم" in section and "أؤيد توحيد" not in section
    assert f"/consultations/{cid}#article-2" in section
    english = await client.get("/account/contributions?lang=en")
    assert "Comments on consultations" in english.text and "Draft guide to municipal licensing" in english.text

    data = json.loads((await client.get("/account/data.json")).content)
    mine = data["consultation_comments"]
    assert {(c["article"], c["stance"], c["reply_to"]) for c in mine} == {(2, "suggest", None), (1, None, theirs)}
    stance = next(c for c in mine if c["stance"])
    assert PHONE in stance["body"] and stance["speaking_as"] == "business"  # as written: the person's own data
    assert stance["organisation"] == "مؤسسة الريادة للمقاولات" and stance["consultation_id"] == cid

    bid = business.id
    assert (await post_form(client, "/account/erase", {"confirm": business.email})).status_code == 303
    db.expire_all()
    rows = list(await db.scalars(select(ConsultationComment).where(ConsultationComment.author_id == bid)))
    assert len(rows) == 2 and all(r.organisation is None for r in rows)
    assert all(PHONE not in r.body and r.body == r.body_public for r in rows)
    assert (await db.scalar(select(ConsultationComment.body).where(ConsultationComment.id == theirs))).startswith("أؤيد")
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as anonymous:
        public = await anonymous.get(f"/consultations/{cid}")
    assert "مؤسسة الريادة للمقاولات" not in public.text and "سارة" not in public.text
    assert "نقترح ثلاثة أيام عمل" in public.text and "مشارك" in public.text  # the text stays, under "A participant"
