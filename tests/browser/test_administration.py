"""From an empty database with one administrator made by the CLI, through the web UI only: two agencies
with e-services and SLAs, staff invited (they verify their e-mail by the invitation link, set a password
and enrol TOTP), an award edition with a judge and a conflict; then a citizen writes to the new agency and
staff answer. The server requires the second factor for staff and sends real mail to the SMTP sink."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.browser.conftest import ARTIFACTS
from tests.browser.serve import running_server
from tests.conftest import MailSink
from tests.factories import PASSWORD
from voice.accounts.models import User
from voice.awards.models import Conflict
from voice.catalogue.models import Agency
from voice.db import libpq_url
from voice.feedback.models import Feedback, Response

from .support import DESKTOP, PHONE, check_page, new_page

pytestmark = pytest.mark.browser

ADMIN = "admin@voice.gov.sa"
STAFF = "analyst@housing.gov.sa"
JUDGE = "judge@award.gov.sa"
BODY = "تطبيق سكني يتوقف عند رفع صك الملكية ولا تظهر أي رسالة خطأ، حاولت من الجوال والحاسب دون فائدة"


@pytest.fixture(scope="module")
def strict_server(database_url: str, mail_sink: MailSink) -> Iterator[str]:
    """The app as production runs it: second factor required for staff, mail through SMTP (the sink)."""
    with running_server(database_url, ARTIFACTS / "server-administration.log", VOICE_REQUIRE_TWO_FACTOR="on",
                        SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail_sink.port)) as base:
        yield base


async def _mail_link(sink: MailSink, to: str, path: str) -> str:
    for _ in range(600):  # the worker sends within a second or two; a loaded machine may take longer
        for mail in sink.to(to):
            found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\?token=[\w-]+)",
                              mail.get_body(("plain",)).get_content())
            if found:
                return found.group(1)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {path} link mailed to {to}")


async def _submit(page, selector: str = "main form button[type=submit]") -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def _unused_code(user: User) -> str:
    """The app's code for a step after the one last accepted: a code is good once, so a person who signs
    in again within the same 30 seconds waits for the next code, as a real app user would."""
    totp = pyotp.TOTP(user.totp_secret)
    wait = (user.totp_last_step or -1) + 1 - totp.timecode(datetime.now(UTC))
    await asyncio.sleep(max(0, wait) * totp.interval)
    return totp.now()


async def _sign_in_and_enrol(page, base: str, email: str, name: str, watch) -> None:
    await page.goto(f"{base}/signin")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    await _submit(page, "form[action='/signin'] button[type=submit]")
    assert page.url.endswith("/signin/enrol"), page.url
    await check_page(page, f"{name}--enrol", watch)
    secret = (await page.inner_text("[data-testid='totp-secret']")).strip()
    await page.fill("#f-code", pyotp.TOTP(secret).now())
    await _submit(page)
    assert len(await page.locator("[data-testid='recovery-codes'] li").all()) == 10
    await check_page(page, f"{name}--recovery-codes", watch)
    await _submit(page, "[data-testid='continue']")


async def test_operating_the_platform_from_an_empty_database_through_the_web(
        browser, strict_server: str, db: AsyncSession, database_url: str, mail_sink: MailSink) -> None:
    base = strict_server
    mail_sink.messages.clear()
    # The one step outside the browser: the first administrator, made by the CLI.
    made = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "voice.cli", "user", "create", "--email", ADMIN, "--password",
                         PASSWORD, "--role", "admin", "--name", "مديرة المنصة"], capture_output=True, text=True,
        env={**os.environ, "DATABASE_URL": libpq_url(database_url)}, timeout=120)
    assert made.returncode == 0, made.stderr

    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await _sign_in_and_enrol(page, base, ADMIN, "admin", watch)
        assert page.url.endswith("/admin"), page.url
        await check_page(page, "admin--home", watch)

        # Two agencies, each with e-services and SLAs.
        for slug, ar, en, sla, services in (
                ("housing", "وزارة البلديات والإسكان", "Ministry of Municipalities and Housing", "4",
                 [("sakani", "سكني", "Sakani", "mobile"), ("permits", "رخص البناء", "Building permits", "web")]),
                ("water", "المياه الوطنية", "National Water", "6", [("bills", "الفواتير", "Bills", "both")])):
            await page.goto(f"{base}/admin/agencies")
            await page.fill("#f-name_ar", ar)
            await page.fill("#f-name_en", en)
            await page.fill("#f-slug", slug)
            await page.fill("#f-sla_days", sla)
            await _submit(page, "form[action='/admin/agencies'] button[type=submit]")
            assert page.url.startswith(f"{base}/admin/agencies/{slug}"), page.url
            for s_slug, s_ar, s_en, channel in services:
                await page.fill("#s-name_ar", s_ar)
                await page.fill("#s-name_en", s_en)
                await page.fill("#s-slug", s_slug)
                await page.select_option("#s-channel", channel)
                await _submit(page, "[data-testid='add-service']")
        await page.fill("#f-sla_complaint", "2")
        await _submit(page, "form[action='/admin/agencies/water'] button[type=submit]")
        await check_page(page, "admin--agency", watch)
        water = await db.scalar(select(Agency).where(Agency.slug == "water"))
        assert water.sla_days == 6 and water.sla_by_kind == {"complaint": 2}

        # Invite a member of staff and a judge.
        for email, role, agency in ((STAFF, "agency_staff", "housing"), (JUDGE, "judge", "")):
            await page.goto(f"{base}/admin/people")
            await page.fill("#f-email", email)
            await page.select_option("#f-role", role)
            await page.select_option("#f-agency", agency)
            await _submit(page, "form[action='/admin/people'] button[type=submit]")
            assert "/admin/people/" in page.url and "invited=1" in page.url, page.url
        await check_page(page, "admin--person", watch)
    finally:
        await context.close()

    # The invited staff member and judge: the mailed link (which proves the address), a password, TOTP.
    for email, name, lands in ((STAFF, "staff", "/agency/inbox"), (JUDGE, "judge", "/awards/judging")):
        link = await _mail_link(mail_sink, email, "/invitation")
        context, page, watch = await new_page(browser, **PHONE)
        try:
            await page.goto(base + link)
            await check_page(page, f"{name}--invitation", watch)
            await page.fill("#f-password", PASSWORD)
            await _submit(page)
            assert "/signin" in page.url
            await _sign_in_and_enrol(page, base, email, name, watch)
            assert page.url.endswith(lands), page.url
        finally:
            await context.close()
    staff = await db.scalar(select(User).where(User.email == STAFF))
    assert staff.email_verified and staff.has_two_factor

    # An award edition with the judge on a branch and a conflict recorded by the administrator.
    context, page, watch = await new_page(browser, **DESKTOP)
    try:
        await page.goto(f"{base}/signin")
        await page.fill("#f-email", ADMIN)
        await page.fill("#f-password", PASSWORD)
        await _submit(page, "form[action='/signin'] button[type=submit]")
        assert page.url.endswith("/signin/code"), page.url
        admin = await db.scalar(select(User).where(User.email == ADMIN))
        await db.refresh(admin)
        await page.fill("#f-code", await _unused_code(admin))
        await _submit(page)
        await page.goto(f"{base}/awards/admin")
        for field, value in (("number", "3"), ("name_ar", "الدورة الثالثة"), ("name_en", "Third edition"),
                             ("opens_on", "2027-01-01"), ("closes_on", "2027-03-31"),
                             ("evidence_from", "2026-01-01"), ("evidence_to", "2026-12-31")):
            await page.fill(f"#f-{field}", value)
        await _submit(page)
        assert "/awards/admin/editions/" in page.url
        await page.locator("input[name='email']").first.fill(JUDGE)
        await _submit(page, "form[action$='/judges'] button[type=submit] >> nth=0")
        await page.fill("#c-judge", JUDGE)
        await page.select_option("#c-agency", "housing")
        await page.fill("#c-reason", "عمل مستشارًا للوزارة العام الماضي")
        await _submit(page, "form[action$='/conflicts'] button[type=submit]")
        await check_page(page, "admin--edition", watch)
        conflict = await db.scalar(select(Conflict))
        assert conflict is not None and conflict.recorded_by_id == admin.id
    finally:
        await context.close()

    # A citizen on a phone writes to the new agency about its new e-service.
    context, page, watch = await new_page(browser, **PHONE)
    try:
        await page.goto(base + "/feedback/new")
        await page.select_option("#f-agency", "housing")
        await page.wait_for_selector("#f-service:not([disabled]) option[value='sakani']", state="attached")
        await page.select_option("#f-service", "sakani")
        await page.tap("label[for='kind-complaint']")
        await page.fill("#f-body", BODY)
        await page.tap("#feedback-form button[type=submit]")
        await page.wait_for_selector("[data-testid='tracking-code']")
    finally:
        await context.close()
    item = await db.scalar(select(Feedback).where(Feedback.body == BODY))
    assert item is not None and (item.due_at - item.created_at).days == 4

    # Staff answer it from their inbox (their device was not remembered: a code again).
    context, page, watch = await new_page(browser, **PHONE)
    try:
        await page.goto(f"{base}/signin")
        await page.fill("#f-email", STAFF)
        await page.fill("#f-password", PASSWORD)
        await _submit(page, "form[action='/signin'] button[type=submit]")
        await db.refresh(staff)
        await page.fill("#f-code", await _unused_code(staff))
        await page.check("#f-remember")
        await _submit(page)
        assert page.url.endswith("/agency/inbox"), page.url
        await _submit(page, f"a[href='/agency/feedback/{item.id}']")
        answer = "شكرًا لك، أصلحنا رفع الصكوك في تطبيق سكني ويمكنك المحاولة الآن."
        await page.fill("#a-body", answer)
        await _submit(page, f"form[action='/agency/feedback/{item.id}/answer'] button[type=submit]")
        await check_page(page, "staff--answered", watch)
    finally:
        await context.close()
    assert (await db.scalar(select(Response.body).where(Response.feedback_id == item.id))) == answer
