"""Emerging themes in the workspace: a theme whose feedback jumped yesterday is flagged on the agency's
dashboard and in the daily digest (real outbox, real job, real SMTP), once per day; staff mute it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import post_form
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.jobs import defer
from voice.themes.alerts import RIYADH, emerging_digest, emerging_themes, riyadh_today
from voice.themes.models import Theme

pytestmark = pytest.mark.slow  # a month of feedback goes in through intake


async def _theme_with_a_spike_yesterday(db: AsyncSession) -> tuple[object, Theme, Theme]:
    agency = await make_agency(db, "passports", contact_email="voice-team@passports.example.sa")
    hot = Theme(agency_id=agency.id, scope="feedback", key="1", label="رمز التحقق لا يصل")
    calm = Theme(agency_id=agency.id, scope="feedback", key="2", label="المواعيد")
    db.add_all([hot, calm])
    await db.flush()
    today = riyadh_today()
    days = [today - timedelta(days=n) for n in range(29, 1, -1)]  # four steady weeks
    plan = [(hot, d, 3) for d in days] + [(calm, d, 3) for d in days] + [(hot, today - timedelta(days=1), 20),
                                                                         (calm, today - timedelta(days=1), 3)]
    intake = IntakeService(db)
    for theme, day, n in plan:
        for i in range(n):
            item = await intake.submit(Submission(agency="passports", body=f"{theme.label} {day} {i}", publish=True))
            at = datetime.combine(day, time(12, i), RIYADH).astimezone(UTC)
            await db.execute(update(Feedback).where(Feedback.id == item.id).values(theme_id=theme.id, created_at=at))
    await db.commit()
    return agency, hot, calm


async def test_a_jump_is_flagged_on_the_dashboard_and_in_one_digest_then_muted(
        client: httpx.AsyncClient, db: AsyncSession, run_jobs, mailbox) -> None:
    agency, hot, calm = await _theme_with_a_spike_yesterday(db)
    flagged = await emerging_themes(db, agency.id)
    assert set(flagged) == {hot.id} and flagged[hot.id].count == 20 and flagged[hot.id].expected == 3

    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await db.commit()
    assert (await post_form(client, "/signin", {"email": staff.email, "password": PASSWORD})).status_code == 303
    page = await client.get("/agency/")
    assert page.status_code == 200 and page.text.count('data-testid="emerging"') == 1
    assert "متصاعد" in page.text

    # The morning digest: one e-mail to the agency through the outbox and SMTP, not two if run again.
    await defer(db, emerging_digest, timestamp=0)
    await db.commit()
    await run_jobs()
    mails = mailbox.to("voice-team@passports.example.sa")
    assert len(mails) == 1
    body = mails[0].get_content()
    assert hot.label in body and calm.label not in body and "/agency/" in body
    assert "emerging theme" in mails[0]["Subject"]
    await defer(db, emerging_digest, timestamp=1)
    await db.commit()
    await run_jobs()
    assert len(mailbox.to("voice-team@passports.example.sa")) == 1

    # Staff mute the flag: gone from the dashboard for a week.
    muted = await post_form(client, f"/agency/themes/{hot.id}/mute-emerging", {})
    assert muted.status_code == 303
    assert 'data-testid="emerging"' not in (await client.get("/agency/")).text
    kept = await db.scalar(select(Theme).where(Theme.id == hot.id).execution_options(populate_existing=True))
    assert kept.emerging_muted_until == riyadh_today() + timedelta(days=7)
    assert await emerging_themes(db, agency.id) == {}


async def test_staff_of_another_agency_cannot_mute(client: httpx.AsyncClient, db: AsyncSession) -> None:
    _agency, hot, _calm = await _theme_with_a_spike_yesterday(db)
    other = await make_agency(db, "traffic")
    outsider = await make_user(db, Role.AGENCY_STAFF, agency=other)
    await db.commit()
    assert (await post_form(client, "/signin", {"email": outsider.email, "password": PASSWORD})).status_code == 303
    refused = await post_form(client, f"/agency/themes/{hot.id}/mute-emerging", {})
    assert refused.status_code in (403, 404)
    kept = await db.scalar(select(Theme).where(Theme.id == hot.id).execution_options(populate_existing=True))
    assert kept.emerging_muted_until is None
