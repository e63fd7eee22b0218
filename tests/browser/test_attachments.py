"""A screenshot from a phone, in a real browser: the htmx form sends it as multipart with a progress bar,
a renamed program is refused in place in Arabic, the agency's staff see the screenshot on the item's page
(served by the app under its sandbox policy), and the public board shows none of it. Pages are checked at
360 px, in Arabic and in English (support.check_page)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_user
from tests.test_attachments import EXE, jpeg_with_gps
from voice.accounts.models import Role
from voice.attachments.models import Attachment
from voice.feedback.models import Feedback

from .seed import demo_agency
from .support import PHONE, check_page, new_page, sign_in

pytestmark = pytest.mark.browser

NARROW = {**PHONE, "viewport": {"width": 360, "height": 780}}
BODY = "عند الدفع في تطبيق الجوازات تظهر رسالة خطأ ولا يكتمل التجديد، أرفقت صورة الشاشة"

# Counts htmx's upload progress events and keeps the bar's last value (our app.js fills the bar first).
# Kept in sessionStorage: after the upload the browser moves to the receipt's own address.
_WATCH_PROGRESS = """() => {
  const seen = {events: 0, value: 0};
  document.addEventListener("htmx:xhr:progress", () => {
    const bar = document.querySelector("progress[data-upload-progress]");
    seen.events += 1;
    if (bar) seen.value = Math.max(seen.value, bar.value);
    sessionStorage.setItem("voiceProgress", JSON.stringify(seen));
  });
}"""


async def _fill(page, body: str = BODY) -> None:
    await page.select_option("#f-agency", "passports")
    await page.fill("#f-body", body)
    await page.check("#f-publish")


async def test_a_screenshot_from_a_phone_reaches_the_agency_and_no_public_page(
        browser, live_server: str, db: AsyncSession) -> None:
    agency = await demo_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency)
    context, page, watch = await new_page(browser, **NARROW)
    try:
        await page.goto(live_server + "/feedback/new")
        await check_page(page, "attachments_phone--form", watch)
        # A program renamed as a photo: refused in place, in Arabic, and nothing is stored.
        await _fill(page)
        await page.set_input_files("#f-screenshot", files=[
            {"name": "screenshot.jpg", "mimeType": "image/jpeg", "buffer": EXE}])
        await page.tap("#feedback-form button[type=submit]")
        error = await page.wait_for_selector("#e-screenshot")
        assert "برنامج" in await error.inner_text()
        await check_page(page, "attachments_phone--refused", watch)
        assert await db.scalar(select(Feedback.id)) is None

        # The real screenshot goes up with a progress bar and the receipt says only the agency sees it.
        await _fill(page)
        await page.set_input_files("#f-screenshot", files=[
            {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}])
        await page.evaluate(_WATCH_PROGRESS)
        await page.tap("#feedback-form button[type=submit]")
        await page.wait_for_selector("[data-testid='screenshot-attached']")
        progress = await page.evaluate("JSON.parse(sessionStorage.getItem('voiceProgress') || '{}')")
        assert progress["events"] >= 1 and progress["value"] > 0, progress
        await check_page(page, "attachments_phone--receipt", watch)
        code = (await page.inner_text("[data-testid='tracking-code']")).strip()
        item = await db.scalar(select(Feedback).where(Feedback.tracking_code == code))
        attachment = await db.scalar(select(Attachment).where(Attachment.owner_id == item.id))
        assert attachment is not None and attachment.filename == "IMG_2041.jpg"

        # The public board and the tracking page show the text, never the screenshot.
        for path in ("/feedback", f"/track/{code}"):
            await page.goto(live_server + path)
            assert "/attachments/" not in await page.content()
            await check_page(page, f"attachments_phone--public{path.replace('/', '_')}", watch)
        response = await page.goto(f"{live_server}/attachments/{attachment.id}")
        assert response.status == 404

        # The agency's staff, on a phone too, see it on the item's page (loaded through the app).
        await sign_in(page, live_server, staff.email)
        await page.goto(f"{live_server}/agency/feedback/{item.id}")
        thumb = await page.wait_for_selector(f"img[src='/attachments/{attachment.id}']")
        await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb)
        assert await thumb.evaluate("img => img.naturalWidth") == 64
        await check_page(page, "attachments_phone--agency_item", watch)
        await page.goto(f"{live_server}/agency/feedback/{item.id}?lang=en")
        await check_page(page, "attachments_phone--agency_item_en", watch, rtl=False)
        await page.goto(f"{live_server}/feedback/new?lang=en")
        assert "Screenshot of the problem" in await page.inner_text("main")
        await check_page(page, "attachments_phone--form_en", watch, rtl=False)
    finally:
        await context.close()


async def test_an_agency_administrator_enters_the_award_with_a_pdf_from_a_phone(
        browser, live_server: str, db: AsyncSession) -> None:
    from tests.test_attachments import pdf
    from voice.awards.editions import EditionService
    from voice.awards.models import EditionStatus, Entry

    admin = await make_user(db, Role.ADMIN)
    agency = await demo_agency(db, "passports")
    boss = await make_user(db, Role.AGENCY_ADMIN, agency)
    edition = await EditionService(session=db).create_edition(admin, {
        "number": "4", "name_ar": "الدورة 4", "name_en": "Edition 4", "opens_on": "2025-01-01",
        "closes_on": "2025-12-31", "evidence_from": "2025-01-01", "evidence_to": "2025-12-31"})
    edition.status = EditionStatus.OPEN_FOR_ENTRIES
    await db.commit()
    context, page, watch = await new_page(browser, **NARROW)
    try:
        await sign_in(page, live_server, boss.email)
        await page.goto(live_server + "/awards/agency/")
        await check_page(page, "attachments_phone--award_form", watch)
        await page.fill(f"#t-{edition.id}", "بوابة الخدمات الموحدة")
        await page.fill(f"#n-{edition.id}", "وصف مشاركتنا في فرع خدمة الأفراد بالتفصيل مع الأرقام والشواهد.")
        await page.fill(f"#dt-{edition.id}", "تقرير رضا المستفيدين")
        await page.set_input_files(f"#df-{edition.id}", files=[
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
        await page.evaluate(_WATCH_PROGRESS)
        await page.tap(f"form[action='/awards/agency/editions/{edition.id}/entries'] button[type=submit]")
        listed = await page.wait_for_selector("[data-testid='entry-files'] a")
        assert await listed.inner_text() == "تقرير رضا المستفيدين"
        assert (await page.evaluate("JSON.parse(sessionStorage.getItem('voiceProgress') || '{}')"))["events"] >= 1
        await check_page(page, "attachments_phone--award_saved", watch)
        entry = await db.scalar(select(Entry))
        assert entry is not None and entry.title == "بوابة الخدمات الموحدة"
        assert await db.scalar(select(Attachment.owner_id).where(Attachment.owner_kind == "award_entry")) == entry.id
    finally:
        await context.close()
