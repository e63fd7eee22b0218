"""A published feedback item has a public page of its own, linked from the board: its redacted text, its
public history and the agency's public answers, in Arabic and English; unpublished or hidden items are 404."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency, make_user
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Feedback


async def test_a_published_item_has_its_own_public_page(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    intake = IntakeService(db)
    item = await intake.submit(Submission(agency="passports", publish=True,
                                          body="طوابير طويلة في موقع الحجز، اتصلوا بي على 0551234567"))
    private = await intake.submit(Submission(agency="passports", body="ملاحظة لم تُنشر على اللوحة"))
    await db.commit()
    lifecycle = LifecycleService(session=db)
    await lifecycle.answer(staff, item.id, "أضفنا مواعيد مسائية في الفرع.")
    await lifecycle.answer(staff, item.id, "ردّ خاص بصاحب الملاحظة وحده.", public=False)
    await lifecycle.change_status(staff, item.id, "resolved", "رتبنا الطوابير، للتواصل 0559876543")
    await db.commit()

    board = await client.get("/feedback")
    assert f'href="/feedback/{item.id}"' in board.text  # the board links the item's page
    page = await client.get(f"/feedback/{item.id}")
    assert page.status_code == 200
    text = page.text
    assert "طوابير طويلة في موقع الحجز" in text and "0551234567" not in text  # redacted public text
    assert "أضفنا مواعيد مسائية في الفرع." in text  # the public answer
    assert "ردّ خاص بصاحب الملاحظة وحده." not in text  # never a private one
    assert "رتبنا الطوابير" in text and "0559876543" not in text  # status note through the redactor
    assert item.tracking_code not in text  # the submitter's code stays theirs
    assert 'data-testid="status">' in text and "هـ" in text and 'dir="rtl"' in text

    english = await client.get(f"/feedback/{item.id}?lang=en")
    assert english.status_code == 200 and 'dir="ltr"' in english.text and "History" in english.text
    assert "AH" in english.text and "0551234567" not in english.text

    assert (await client.get(f"/feedback/{private.id}")).status_code == 404  # never published
    await db.execute(update(Feedback).where(Feedback.id == item.id).values(is_public=False))  # hidden
    await db.commit()
    assert (await client.get(f"/feedback/{item.id}")).status_code == 404
    assert (await client.get("/feedback/999999")).status_code == 404
    assert (await client.get("/feedback/0")).status_code in (400, 404)
