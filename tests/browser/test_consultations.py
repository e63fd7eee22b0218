"""The e-consultation loop in Chromium: staff publish a five-article draft; three people (one a business)
comment on different articles from a 360 px phone; staff read stances and themes, close it early and
publish the response report; a commenter is e-mailed, follows the link and reads the report; the
evidence dossier's e-consultation figures open exactly those records."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import MailSink
from tests.factories import make_user
from voice.accounts.models import Role, SubmitterKind
from voice.awards.editions import EditionService
from voice.consultations.access import today
from voice.consultations.models import Consultation, ConsultationComment

from .seed import demo_agency
from .support import DESKTOP, PHONE, check_page, new_page, sign_in

pytestmark = pytest.mark.browser

PHONE_360 = {**PHONE, "viewport": {"width": 360, "height": 780}}
ARTICLES = [("الغرض", "تهدف هذه القواعد إلى تنظيم مواعيد فتح المحلات في الأحياء السكنية."),
            ("ساعات العمل", "تعمل المحلات من السادسة صباحاً حتى منتصف الليل."),
            ("المواقف", "يوفر كل محل موقفاً لكل خمسين متراً مربعاً من مساحته."),
            ("النظافة", "يلتزم المحل بحاويات مغلقة للنفايات."),
            ("التطبيق", "يعمل بهذه القواعد بعد تسعين يوماً من نشرها.")]
VIEWS = [(2, "oppose", "منتصف الليل متأخر جداً على حي سكني فيه أطفال"),
         (3, "suggest", "نقترح السماح بالمواقف المشتركة بين المحلات المتجاورة"),
         (2, "suggest", "نقترح أن تنتهي ساعات العمل عند الحادية عشرة مساءً")]


async def _mail_link(sink: MailSink, to: str, path: str) -> str:
    for _ in range(600):  # the in-process worker sends within seconds; a loaded machine may take longer
        for mail in sink.to(to):
            found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r")", mail.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {path} link mailed to {to}")


async def _submit(page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_consultation_from_draft_to_report_and_dossier(browser, live_server: str, db: AsyncSession,
                                                            mail_sink: MailSink) -> None:
    agency = await demo_agency(db, "momrah")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    admin = await make_user(db, Role.ADMIN)
    people = [await make_user(db) for _ in range(3)]
    people[1].kind, people[1].organisation = SubmitterKind.BUSINESS, "مؤسسة الحي التجارية"
    edition = await EditionService(session=db).create_edition(admin, {
        "number": "9", "name_ar": "الدورة ٩", "name_en": "Edition 9", "opens_on": today().isoformat(),
        "closes_on": (today() + timedelta(days=60)).isoformat(), "evidence_from": (today() - timedelta(days=30)).isoformat(),
        "evidence_to": (today() + timedelta(days=30)).isoformat()})
    await db.commit()
    mail_sink.messages.clear()

    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await sign_in(page, live_server, staff.email)
        await page.goto(live_server + "/agency/consultations/new")
        await check_page(page, "consult--new", watch)
        await page.fill("#title_ar", "مشروع قواعد ساعات عمل المحلات في الأحياء")
        await page.fill("#summary_ar", "نعرض مشروع القواعد لأخذ مرئيات السكان والمنشآت قبل اعتماده.")
        await page.fill("#opens_on", today().isoformat())
        await page.fill("#closes_on", (today() + timedelta(days=21)).isoformat())
        for i, (title, text) in enumerate(ARTICLES):
            await page.fill(f"#a_number_{i}", str(i + 1))
            await page.fill(f"#a_title_{i}", title)
            await page.fill(f"#a_text_{i}", text)
        await _submit(page, "main form button[type=submit]")
        await check_page(page, "consult--draft", watch)
        await _submit(page, "form[action$='/publish'] button")
        assert await page.inner_text("[data-testid='phase']") == "مفتوح للمرئيات"
        cid = int(re.search(r"/agency/consultations/(\d+)", page.url).group(1))
    finally:
        await context.close()

    for person, (number, stance, text) in zip(people, VIEWS, strict=True):
        context, page, watch = await new_page(browser, **PHONE_360)
        try:
            await sign_in(page, live_server, person.email)
            await page.goto(live_server + "/consultations")
            await check_page(page, "consult--list-phone", watch)
            async with page.expect_navigation():
                await page.tap(f"a[href='/consultations/{cid}']")
            await check_page(page, "consult--page-phone", watch)
            article = page.locator(f"[data-testid='article-{number}']")
            await article.locator("details.comment-form > summary").tap()
            await article.locator(f"input[name=stance][value={stance}]").check()
            await page.fill(f"#body-{number}", text)
            async with page.expect_navigation():
                await article.locator("details.comment-form form button[type=submit]").tap()
            assert text in await page.inner_text(f"[data-testid='article-{number}']")
            await check_page(page, "consult--commented-phone", watch)
        finally:
            await context.close()

    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await sign_in(page, live_server, staff.email)
        await page.goto(f"{live_server}/agency/consultations/{cid}")
        stances = await page.inner_text("[data-testid='stances-2']")
        assert "أعارض: ١" in stances and "أقترح تعديلًا: ١" in stances
        assert "أقترح تعديلًا: ١" in await page.inner_text("[data-testid='stances-3']")
        assert "مؤسسة الحي التجارية" in await page.inner_text("[data-testid='staff-article-3']")
        await _submit(page, "form[action$='/themes'] button")
        for _ in range(300):  # the in-process worker runs the theme job
            run = await page.get_attribute("[data-testid='theme-run']", "data-status")
            if run in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.5)
            await page.reload()
        assert run == "succeeded", run
        assert "اكتمل" in await page.inner_text("[data-testid='theme-run']")  # the status in words, not its code
        await check_page(page, "consult--insights", watch)
        await page.fill("#close-reason", "اكتمل عدد كاف من المرئيات")
        await _submit(page, "form[action$='/close'] button")
        await page.select_option("#decision_1", "kept")
        await page.select_option("#decision_2", "amended")
        await page.fill("#reason_2", "أخذنا بملاحظات السكان عن الإزعاج الليلي")
        await page.fill("#text_2", "تعمل المحلات من السادسة صباحاً حتى الحادية عشرة مساءً.")
        await page.select_option("#decision_3", "amended")
        await page.fill("#reason_3", "أجزنا المواقف المشتركة")
        await page.fill("#text_3", "يوفر كل محل موقفاً لكل خمسين متراً مربعاً، ويجوز اشتراك المحلات المتجاورة.")
        await check_page(page, "consult--report-form", watch)
        await _submit(page, "button[name=publish][value='1']")
        assert page.url.endswith(f"/consultations/{cid}/report")
    finally:
        await context.close()

    link = await _mail_link(mail_sink, people[0].email, f"/consultations/{cid}/report")
    context, page, watch = await new_page(browser, **PHONE_360)
    try:
        await sign_in(page, live_server, people[0].email)
        await page.goto(live_server + link)
        assert "الحادية عشرة مساءً" in await page.inner_text("[data-testid='new-text-2']")
        assert await page.inner_text("[data-testid='answered']") == "٣ / ٥"
        await check_page(page, "consult--report-phone", watch)
    finally:
        await context.close()

    comments = set((await db.scalars(select(ConsultationComment.id).where(
        ConsultationComment.consultation_id == cid))).all())
    consultation = await db.scalar(select(Consultation).where(Consultation.id == cid))
    changed = {a.id for a in consultation.articles if a.number in (2, 3)}
    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await sign_in(page, live_server, admin.email)
        await page.goto(f"{live_server}/awards/editions/{edition.id}/evidence/{agency.slug}")
        await check_page(page, "consult--dossier", watch)
        base = f"{live_server}/awards/editions/{edition.id}/evidence/{agency.slug}/records?figure="
        for figure, expected in (("consultations", {cid}), ("consultation_comments", comments),
                                 ("consultation_changes", changed)):
            await page.goto(base + figure)
            ids = {int(x) for x in await page.locator("[data-testid=record]").evaluate_all(
                "els => els.map(e => e.dataset.id)")}
            assert ids == expected, (figure, ids, expected)
    finally:
        await context.close()
