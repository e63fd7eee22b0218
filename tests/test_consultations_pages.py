"""Consultation pages through HTTP: staff draft, publish and read stances; people comment per article from
the public page (Arabic and English); the report page, printable, and its CSV and XLSX exports."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import post_form
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.models import Role, SubmitterKind
from voice.consultations.access import today
from voice.consultations.models import Consultation, ConsultationComment


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    client.cookies.clear()
    assert (await post_form(client, "/signin", {"email": email, "password": PASSWORD})).status_code == 303


def draft_form(**extra: str) -> dict[str, str]:
    form = {"title_ar": "مشروع دليل إجراءات التراخيص البلدية",
            "summary_ar": "نعرض مشروع الدليل لأخذ مرئيات الأفراد والمنشآت قبل اعتماده.",
            "title_en": "Draft guide to municipal licensing", "opens_on": today().isoformat(),
            "closes_on": (today() + timedelta(days=21)).isoformat(), "audience": "individual", "rows": "3",
            "a_number_0": "1", "a_title_0": "الغرض", "a_text_0": "يهدف هذا الدليل إلى توحيد إجراءات إصدار التراخيص.",
            "a_number_1": "2", "a_title_1": "المدة", "a_text_1": "يصدر الترخيص خلال خمسة أيام عمل من اكتمال الطلب."}
    form.update(extra)
    return form


async def test_staff_draft_publish_and_people_comment_from_the_page(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    bad = await post_form(client, "/agency/consultations", draft_form(closes_on="2020-01-01", a_text_1=""))
    assert bad.status_code == 422 and 'id="err-closes_on"' in bad.text
    assert "مشروع دليل إجراءات التراخيص البلدية" in bad.text  # the form keeps what was typed
    created = await post_form(client, "/agency/consultations", {**draft_form(), "audience": ["individual", "government"]})
    assert created.status_code == 303, created.text[:500]
    cid = int(created.headers["location"].rsplit("/", 1)[1])
    assert (await db.scalar(select(Consultation.audience).where(Consultation.id == cid))) == ["individual", "government"]
    manage = await client.get(f"/agency/consultations/{cid}")
    assert manage.status_code == 200 and 'data-testid="staff-article-2"' in manage.text
    edit = await client.get(f"/agency/consultations/{cid}/edit")
    assert 'value="الغرض"' in edit.text and 'name="a_text_4"' in edit.text  # two articles and three spare rows
    assert (await post_form(client, f"/agency/consultations/{cid}/edit",
                            draft_form(a_number_2="3", a_text_2="تنشر الأمانة قائمة الاشتراطات على موقعها."))).status_code == 303
    assert (await post_form(client, f"/agency/consultations/{cid}/publish", {})).status_code == 303
    early = await post_form(client, f"/agency/consultations/{cid}/close", {"reason": ""})
    assert early.status_code == 422 and 'data-testid="error"' in early.text

    person = await make_user(db)
    await sign_in(client, person.email)
    page = await client.get(f"/consultations/{cid}")
    assert page.status_code == 200 and 'data-testid="article-3"' in page.text
    assert 'lang="ar"' in page.text and 'name="viewport"' in page.text
    sent = await post_form(client, f"/consultations/{cid}/comments",
                           {"article": "2", "stance": "suggest", "body": "خمسة أيام طويلة، أقترح ثلاثة أيام. جوالي 0561234567"})
    assert sent.status_code == 303
    comment = await db.scalar(select(ConsultationComment).where(ConsultationComment.author_id == person.id))
    page = await client.get(f"/consultations/{cid}")
    assert f'name="comment_id" value="{comment.id}"' in page.text  # the form now edits one's own view
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as anonymous:
        public = await anonymous.get(f"/consultations/{cid}")
    assert "0561234567" not in public.text and "خمسة أيام طويلة" in public.text
    twice = await post_form(client, f"/consultations/{cid}/comments",
                            {"article": "2", "stance": "support", "body": "تعليق ثان على المادة نفسها"})
    assert twice.status_code == 409 and "سبق أن أبديت رأيك" in twice.text
    edited = await post_form(client, f"/consultations/{cid}/comments", {
        "article": "2", "stance": "oppose", "body": "أعارض المدة كما هي", "comment_id": str(comment.id)})
    assert edited.status_code == 303
    unknown = await post_form(client, f"/consultations/{cid}/comments",
                              {"article": "77", "stance": "support", "body": "مادة غير موجودة في المشروع"})
    assert unknown.status_code == 422
    english = await client.get(f"/consultations/{cid}?lang=en")
    assert "Draft guide to municipal licensing" in english.text and "Oppose: 1" in english.text

    business = await make_user(db)
    business.kind = SubmitterKind.BUSINESS
    await db.commit()
    await sign_in(client, business.email)
    refused = await client.get(f"/consultations/{cid}")
    assert 'data-testid="why-no-form"' in refused.text  # individuals only
    await sign_in(client, staff.email)
    manage = await client.get(f"/agency/consultations/{cid}")
    assert "أعارض: ١" in manage.text or "أعارض: 1" in manage.text


async def test_report_page_prints_and_exports(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    cid = int((await post_form(client, "/agency/consultations", draft_form())).headers["location"].rsplit("/", 1)[1])
    await post_form(client, f"/agency/consultations/{cid}/publish", {})
    person = await make_user(db)
    await sign_in(client, person.email)
    await post_form(client, f"/consultations/{cid}/comments",
                    {"article": "2", "stance": "oppose", "body": "المدة طويلة على أصحاب المحلات"})
    await db.execute(update(Consultation).where(Consultation.id == cid).values(
        opens_on=today() - timedelta(days=30), closes_on=today() - timedelta(days=1)))
    await db.commit()
    assert (await client.get(f"/consultations/{cid}/report")).status_code == 404
    await sign_in(client, staff.email)
    missing = await post_form(client, f"/agency/consultations/{cid}/report",
                              {"decision_2": "amended", "reason_2": "", "publish": "1"})
    assert missing.status_code == 422
    saved = await post_form(client, f"/agency/consultations/{cid}/report", {
        "decision_1": "kept", "decision_2": "amended", "reason_2": "أخذنا بملاحظة طول المدة",
        "text_2": "يصدر الترخيص خلال ثلاثة أيام عمل من اكتمال الطلب.", "add_number": "3",
        "add_title": "التظلم", "add_text": "يحق لمقدم الطلب التظلم خلال ثلاثين يوماً.",
        "add_reason": "طلب عدد من المشاركين طريقاً للتظلم", "summary": "شكراً للمشاركين", "publish": "1"})
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"/consultations/{cid}/report")
    client.cookies.clear()
    report = await client.get(f"/consultations/{cid}/report")
    assert report.status_code == 200
    assert 'data-testid="new-text-2"' in report.text and "ثلاثة أيام عمل" in report.text
    assert "يصدر الترخيص خلال خمسة أيام" in report.text  # the draft beside the amended text
    assert 'data-testid="report-article-3"' in report.text and 'class="report-noprint' in report.text
    csv = await client.get(f"/consultations/{cid}/report/export/csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and "أخذنا بملاحظة طول المدة" in lines[2]
    xlsx = await client.get(f"/consultations/{cid}/report/export/xlsx")
    assert xlsx.status_code == 200
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 4 and sheet.cell(3, 4).value == 1  # article 2: one opposing view
    assert (await client.get(f"/consultations/{cid}/report/export/pdf")).status_code == 404


async def test_an_administrator_drafts_from_the_page_for_the_agency_it_names(client: httpx.AsyncClient,
                                                                          db: AsyncSession) -> None:
    """The same rule as the API (the service's): the administrator's form asks for the agency; leaving it
    out, or naming no active agency, is shown on that field; staff are not asked."""
    agency = await make_agency(db, "amanah")
    admin = await make_user(db, Role.ADMIN)
    await sign_in(client, admin.email)
    form = (await client.get("/agency/consultations/new")).text
    assert 'name="agency"' in form and '<option value="amanah">' in form  # chosen by name, not typed
    missing = await post_form(client, "/agency/consultations", draft_form())
    assert missing.status_code == 422 and 'id="err-agency"' in missing.text
    assert "حدّد الجهة صاحبة الاستطلاع" in missing.text
    unknown = await post_form(client, "/agency/consultations", draft_form(agency="nowhere"))
    assert unknown.status_code == 422 and "لا توجد جهة نشطة بهذا المعرّف." in unknown.text
    assert '<option value="amanah">' in unknown.text  # the list is offered again with the error
    created = await post_form(client, "/agency/consultations", draft_form(agency="amanah"))
    assert created.status_code == 303, created.text[:500]
    cid = int(created.headers["location"].rsplit("/", 1)[1])
    assert await db.scalar(select(Consultation.agency_id).where(Consultation.id == cid)) == agency.id
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    assert 'name="agency"' not in (await client.get("/agency/consultations/new")).text
