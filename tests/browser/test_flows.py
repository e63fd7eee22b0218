"""End-to-end journeys in headless Chromium against the app served by uvicorn.

Every page visited is checked the same way (support.check_page): Arabic, right-to-left, nothing wider
than the screen, no script refused by the Content-Security-Policy, and a full-page screenshot in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea
from ideas.services import IdeaDraft, IdeaService
from tests.factories import make_user
from voice.accounts.models import Role
from voice.feedback.models import Channel, Feedback, Response, Status
from voice.workspace.models import Improvement, ImprovementStatus

from .seed import demo_agency
from .support import DESKTOP, PHONE, check_page, new_page, sign_in

pytestmark = pytest.mark.browser

ASCII_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
BODY = "تطبيق الجوازات يطلب رمز التحقق ثم لا يصل الرمز إلى جوالي، حاولت ثلاث مرات اليوم ولم أستطع تجديد الجواز"


async def test_citizen_on_a_phone_gives_feedback_and_tracks_it(browser, live_server: str, db: AsyncSession) -> None:
    await demo_agency(db, "passports")
    await demo_agency(db, "traffic")
    context, page, watch = await new_page(browser, **PHONE)
    try:
        await page.goto(live_server + "/")
        await check_page(page, "citizen_phone--home", watch)
        await page.tap("main a[href='/feedback/new']")
        await page.wait_for_url("**/feedback/new")
        await check_page(page, "citizen_phone--form", watch)

        # Choosing the agency fetches its e-services into the picker (htmx partial).
        assert await page.is_disabled("#f-service")
        await page.select_option("#f-agency", "passports")
        await page.wait_for_selector("#f-service:not([disabled]) option[value='passport-renewal']", state="attached")
        await page.select_option("#f-service", "passport-renewal")
        await page.tap("label[for='kind-complaint']")
        await page.fill("#f-body", BODY)
        await page.tap("label[for='rating-2']")
        await page.fill("#f-contact_email", "reem@example.sa")
        await page.check("#f-publish")
        await check_page(page, "citizen_phone--filled", watch)
        await page.tap("#feedback-form button[type=submit]")

        # The receipt has its own address (post/redirect/get): a refresh keeps the code.
        code_el = await page.wait_for_selector("[data-testid='receipt'] [data-testid='tracking-code']")
        code = (await code_el.inner_text()).strip()
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code), code
        assert f"/track/{code}" in page.url
        await page.reload()
        assert code in await page.inner_text("[data-testid='receipt']")
        assert await page.is_visible("button[data-copy]")  # the copy button shows where a script runs
        await check_page(page, "citizen_phone--receipt", watch)

        item = await db.scalar(select(Feedback).where(Feedback.tracking_code == code))
        assert item is not None and item.body == BODY and item.rating == 2 and item.publish
        assert item.channel is Channel.MOBILE and item.contact_email == "reem@example.sa"

        # The tracking page of this item, as a person arriving later sees it.
        await page.goto(f"{live_server}/track/{code}")
        text = await page.inner_text("main")
        assert code in text and BODY[:30] in text
        assert "reem@example.sa" not in await page.content()
        await check_page(page, "citizen_phone--tracked", watch)

        # Later, from the tracking form, typed the way people do (lower case, spaces for dashes).
        await page.goto(live_server + "/track")
        await check_page(page, "citizen_phone--track", watch)
        await page.fill("#f-code", code.lower().replace("-", " "))
        async with page.expect_navigation():
            await page.tap("main form[action='/track'] button[type=submit]")
        assert page.url.endswith(f"/track/{code}"), page.url
        assert code in await page.inner_text("main")
        await check_page(page, "test_citizen_on_a_phone_gives_feedback_and_tracks_it", watch)
    finally:
        await context.close()


async def test_staff_refresh_themes_answer_one_and_record_an_improvement(browser, live_server: str,
                                                                       db: AsyncSession) -> None:
    agency = await demo_agency(db, "passports", feedback=57)
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await sign_in(page, live_server, staff.email)
        await page.goto(live_server + "/agency")
        await check_page(page, "staff--dashboard-empty", watch)
        assert await page.locator("[data-testid='theme-card']").count() == 0

        # The refresh runs as a background job in the server's worker; the page polls its progress
        # and reloads itself when the run succeeds.
        await page.click("[data-testid='refresh-themes']")
        await page.wait_for_selector("[data-testid='run-status']")
        await page.wait_for_selector("[data-testid='theme-card']", timeout=120_000)
        status = page.locator("[data-testid='run-status']")
        assert await status.get_attribute("data-status") == "succeeded"
        cards = await page.locator("[data-testid='theme-card']").count()
        assert 3 <= cards <= 15, cards
        await check_page(page, "staff--dashboard-themes", watch)

        # Open the biggest theme and answer all its open items at once.
        await page.click("[data-testid='theme-card'] h2 a >> nth=0")
        await page.wait_for_url(re.compile(r".*/agency/themes/\d+$"))
        theme_id = int(page.url.rsplit("/", 1)[1])
        await page.wait_for_selector("[data-testid='bulk-preview']")
        await check_page(page, "staff--theme", watch)
        answer = "شكرًا لملاحظاتكم، عالجنا الخلل في هذه الخدمة وسيصلكم التحديث خلال أيام."
        await page.fill("#bulk-body", answer)
        await page.check("#bulk-close")
        async with page.expect_navigation():
            await page.click("form[action$='/answer'] button[type=submit]")
        assert "answered=" in page.url
        answered = int(re.search(r"answered=(\d+)", page.url).group(1))
        assert answered >= 1
        await check_page(page, "staff--theme-answered", watch)
        members = (await db.scalars(select(Feedback).where(Feedback.theme_id == theme_id)
                                    .execution_options(populate_existing=True))).all()
        assert members and all(m.status is Status.RESOLVED for m in members)
        answers = (await db.scalars(select(Response).where(Response.feedback_id.in_([m.id for m in members])))).all()
        assert {a.body for a in answers} == {answer} and len(answers) == answered

        # Record the improvement that came out of it, linked to the theme, delivered.
        async with page.expect_navigation():
            await page.click(f"a[href='/agency/improvements/new?theme={theme_id}']")
        assert await page.is_checked(f"#th-{theme_id}")
        title = "رسائل رمز التحقق تصل خلال دقيقة"
        await page.fill("#f-title", title)
        await page.fill("#f-description", "غيّرنا مزوّد الرسائل النصية وأضفنا إعادة إرسال الرمز تلقائيًا.")
        await page.select_option("#f-kind", "service")
        await page.select_option("#f-status", "delivered")
        await check_page(page, "staff--improvement-form", watch)
        async with page.expect_navigation():
            await page.click("main form button[type=submit]")
        assert page.url.endswith("/agency/improvements"), page.url
        imp = await db.scalar(select(Improvement).where(Improvement.title == title))
        assert imp is not None and imp.status is ImprovementStatus.DELIVERED

        # The public sees it, with how many people's feedback led to it.
        await page.goto(live_server + "/you-said-we-did")
        card = page.locator("[data-testid='improvement']", has_text=title)
        await card.wait_for()
        people = await card.locator("[data-testid='people']").inner_text()
        # Every member of the theme was a different person (an e-mail, or an anonymous item); from two
        # on, the sentence carries the count. (In which digits is test_i18n's concern.)
        assert len(members) >= 2
        count = re.search(r"[0-9٠-٩]+", people)
        assert count and count.group().translate(ASCII_DIGITS) == str(len(members)), people
        await check_page(page, "test_staff_refresh_themes_answer_one_and_record_an_improvement", watch)
    finally:
        await context.close()


REMINDER = ("تنبيه قبل انتهاء الهوية والجواز",
            "رسالة تذكير تصل قبل انتهاء الهوية الوطنية أو جواز السفر أو رخصة القيادة بشهر ومعها رابط التجديد")
PARAPHRASE = ("تذكير قبل انتهاء الجواز والهوية",
              "أقترح إرسال تذكير بالجوال قبل انتهاء جواز السفر والهوية ورخصة القيادة مع رابط مباشر للتجديد")
UNRELATED = ("مواقف للزوار عند المستشفيات", "تطبيق يعرض المواقف الشاغرة حول المستشفيات الحكومية ويتيح حجز موقف")


async def test_citizen_proposing_an_idea_sees_a_similar_one_while_typing(browser, live_server: str,
                                                                         db: AsyncSession) -> None:
    await demo_agency(db, "passports")
    earlier = await make_user(db)
    ideas = IdeaService(db)
    original = await ideas.submit(IdeaDraft(title=REMINDER[0], description=REMINDER[1]), earlier)
    await ideas.submit(IdeaDraft(title=UNRELATED[0], description=UNRELATED[1]), earlier)
    await db.commit()
    author = await make_user(db)
    context, page, watch = await new_page(browser, **PHONE)
    try:
        await sign_in(page, live_server, author.email)
        await page.goto(live_server + "/ideas/new")
        await check_page(page, "idea--form", watch)
        await page.locator("#f-title").press_sequentially(PARAPHRASE[0], delay=10)
        await page.fill("#f-description", PARAPHRASE[1])
        panel = page.locator("#similar-panel [data-testid='similar-ideas']")
        await panel.wait_for()
        links = panel.locator("a")
        await page.wait_for_function("() => document.querySelector('#similar-panel a') !== null")
        first_href = await links.first.get_attribute("href")
        assert first_href == f"/ideas/{original.id}", first_href
        assert UNRELATED[0] not in await panel.inner_text()
        await check_page(page, "idea--similar-shown", watch)

        async with page.expect_navigation():
            await page.click("#idea-form > button[type=submit]")
        assert re.search(r"/ideas/\d+\?new=1$", page.url), page.url
        mine = await db.scalar(select(Idea).where(Idea.title == PARAPHRASE[0]))
        assert mine is not None and mine.author_id == author.id
        assert PARAPHRASE[0] in await page.inner_text("main")
        await check_page(page, "test_citizen_proposing_an_idea_sees_a_similar_one_while_typing", watch)
    finally:
        await context.close()


async def test_judge_scores_an_idea_entry(browser, live_server: str, db: AsyncSession) -> None:
    from ideas.models import IdeaCategory, IdeaStatus
    from voice.accounts.models import SubmitterKind
    from voice.awards.editions import EditionService
    from voice.awards.lifecycle import EditionLifecycleService
    from voice.awards.models import BranchCode, Entry, ScoreSheet

    agency = await demo_agency(db, "passports")
    admin = await make_user(db, Role.ADMIN)
    author = await make_user(db)
    title = "تجديد الجواز من التطبيق مع التوصيل للمنزل"
    db.add(Idea(title=title, description="إتاحة تجديد جواز السفر بالكامل عبر التطبيق وتوصيله للمنزل",
                description_public="إتاحة تجديد جواز السفر بالكامل عبر التطبيق وتوصيله للمنزل", problem="",
                problem_public="", author_id=author.id, author_kind=SubmitterKind.INDIVIDUAL, agency_id=agency.id,
                category=IdeaCategory.DIGITAL_SERVICES, status=IdeaStatus.ACCEPTED_FOR_EVALUATION, is_public=True))
    await db.commit()
    awards = EditionService(session=db)
    edition = await awards.create_edition(admin, {
        "number": "3", "name_ar": "الدورة الثالثة", "name_en": "Third edition", "opens_on": "2025-01-01",
        "closes_on": "2025-12-31", "evidence_from": "2025-01-01", "evidence_to": "2025-12-31"})
    await db.commit()
    await EditionLifecycleService(session=db).advance(admin, edition.id, "open_for_entries")
    await EditionLifecycleService(session=db).advance(admin, edition.id, "judging")  # enters the accepted ideas in e-contribution
    branch = await awards.branch_by_code(edition.id, BranchCode.E_CONTRIBUTION)
    judge = await make_user(db, Role.JUDGE)
    await awards.assign_judge(admin, branch.id, judge.email)
    await db.commit()
    entry = await db.scalar(select(Entry).where(Entry.branch_id == branch.id))
    assert entry is not None

    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await sign_in(page, live_server, judge.email)
        await page.goto(live_server + "/awards/judging")
        await check_page(page, "judge--entries", watch)
        async with page.expect_navigation():
            await page.click(f"[data-testid='judge-entry'][data-entry='{entry.id}'] a")
        await check_page(page, "judge--score-form", watch)
        inputs = page.locator("input[name^='score_']")
        assert await inputs.count() >= 2
        for n in range(await inputs.count()):
            box = inputs.nth(n)
            # typed on an Arabic keyboard: Arabic-Indic digits ("٧") are read as numbers
            await box.fill(str(min(7, int(await box.get_attribute("data-max")))).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
        await page.locator("textarea[name^='comment_']").first.fill("فكرة عملية وقابلة للتطبيق بسرعة")
        confirm = page.locator("button[name='action'][value='submit']")
        assert not await confirm.is_visible()  # final submit asks first
        await page.click("[data-testid='confirm-submit'] summary")
        async with page.expect_navigation():
            await confirm.click()
        assert "saved=1" in page.url, page.url
        await check_page(page, "test_judge_scores_an_idea_entry", watch)
        sheet = await db.scalar(select(ScoreSheet).where(ScoreSheet.entry_id == entry.id)
                                .execution_options(populate_existing=True))
        assert sheet is not None and sheet.submitted_at is not None
    finally:
        await context.close()
