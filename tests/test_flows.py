"""Complete flows, over HTTP: what a person does next after each step works, twice in a row too."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import post_form
from tests.factories import make_agency, make_user
from tests.test_awards import sign_in
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback, Response, Status
from voice.notifications.models import Notification
from voice.themes.models import Theme


async def _themed_items(db: AsyncSession, n: int = 3) -> tuple[object, Theme, list[Feedback]]:
    agency = await make_agency(db, "passports")
    service = IntakeService(db)
    items = [await service.submit(Submission(agency="passports", body=f"رمز التحقق لا يصل إلى جوالي مرة {i}",
                                             contact_email=f"p{i}@example.sa")) for i in range(n)]
    theme = Theme(agency_id=agency.id, key="1", label="رمز التحقق", keywords=["رمز"], size=n)
    db.add(theme)
    await db.flush()
    for item in items:
        item.theme_id = theme.id
    await db.commit()
    return agency, theme, items


async def test_a_bulk_answer_sent_twice_answers_once(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency, theme, items = await _themed_items(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    answer = "نعمل على إصلاح إرسال رموز التحقق وسنبلغكم عند الانتهاء."
    first = await post_form(client, f"/agency/themes/{theme.id}/answer", {"body": answer})
    assert first.status_code == 303 and "answered=3" in first.headers["location"]
    preview = await client.get(f"/agency/themes/{theme.id}/preview", headers={"hx-request": "true"})
    assert 'data-testid="already-answered"' in preview.text  # the preview says what is left
    again = await post_form(client, f"/agency/themes/{theme.id}/answer", {"body": answer})
    assert again.status_code == 303 and "answered=0" in again.headers["location"]
    page = await client.get(again.headers["location"])
    assert 'data-testid="nothing-sent"' in page.text
    counts = [await db.scalar(select(func.count()).select_from(Response).where(Response.feedback_id == i.id))
              for i in items]
    assert counts == [1, 1, 1]
    mails = await db.scalar(select(func.count()).select_from(Notification))
    assert mails == 3  # one e-mail per person, not two
    # A different answer (an update) still reaches everyone.
    update = await post_form(client, f"/agency/themes/{theme.id}/answer", {"body": answer + " تم الإصلاح."})
    assert "answered=3" in update.headers["location"]


async def test_declining_without_a_reason_keeps_the_chosen_status(client: httpx.AsyncClient,
                                                                  db: AsyncSession) -> None:
    agency, _theme, items = await _themed_items(db, 1)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    refused = await post_form(client, f"/agency/feedback/{items[0].id}/status", {"status": "declined", "reason": ""})
    assert refused.status_code == 422
    assert '<option value="declined" selected>' in refused.text
    assert (await db.scalar(select(Feedback.status).where(Feedback.id == items[0].id))) is Status.RECEIVED
