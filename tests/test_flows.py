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


async def test_the_receipt_lives_at_its_own_address(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Post/redirect/get: the receipt survives a refresh; htmx is sent there too; the code can be e-mailed."""
    await make_agency(db, "passports")
    form = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual",
            "body": "تطبيق الجوازات يتوقف عند رفع الصورة الشخصية"}
    plain = await post_form(client, "/feedback", form)
    assert plain.status_code == 303 and plain.headers["location"].startswith("/track/")
    receipt = plain.headers["location"]
    for _refresh in range(2):  # a refresh shows the same receipt
        page = await client.get(receipt)
        assert page.status_code == 200 and 'data-testid="receipt"' in page.text and "data-copy=" in page.text
    code = receipt.split("/")[2].split("?")[0]
    assert code in page.text
    htmx = await post_form(client, "/feedback", form, headers={"hx-request": "true"})
    assert htmx.status_code == 200 and htmx.headers["hx-redirect"].startswith("/track/")
    bad = await post_form(client, f"/track/{code}/email", {"email": "not-an-address"})
    assert bad.status_code == 422 and 'value="not-an-address"' in bad.text
    sent = await post_form(client, f"/track/{code}/email", {"email": "me@example.sa"})
    assert sent.status_code == 303 and "sent=1" in sent.headers["location"]
    mail = await db.scalar(select(Notification).where(Notification.to_address == "me@example.sa"))
    assert mail is not None and code in mail.body and f"/track/{code}" in mail.body


async def test_tracking_shows_the_answer_and_the_reopened_due_date(client: httpx.AsyncClient,
                                                                   db: AsyncSession) -> None:
    """After an answer the person sees "in progress" and the answer; after "not fixed" the item is open again
    with a new due date, leaves the agency's closed-loop figure, and the person may reply."""
    from datetime import UTC, datetime, timedelta

    from voice.awards.evidence import _feedback_figures
    from voice.feedback.lifecycle import LifecycleService
    from voice.workspace.improvements import ImprovementService

    agency, _theme, items = await _themed_items(db, 1)
    item = items[0]
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    lifecycle = LifecycleService(session=db)
    await lifecycle.answer(staff, item.id, "نراجع المشكلة مع مزود الرسائل.")
    await db.commit()
    page = await client.get(f"/track/{item.tracking_code}")
    assert 'data-testid="status">قيد التنفيذ<' in page.text and "نراجع المشكلة مع مزود الرسائل." in page.text
    replied = await post_form(client, f"/track/{item.tracking_code}/reply", {"body": "ما زالت الرسائل لا تصل إليّ."})
    assert replied.status_code == 303
    await lifecycle.answer(staff, item.id, "أصلحنا الخلل وتصل الرسائل الآن.", close=True)
    await ImprovementService(session=db).save(staff, {"title": "مزود رسائل جديد", "kind": "service",
                                                      "status": "delivered", "feedback": str(item.id)})
    await db.commit()
    closed_loop = _feedback_figures()["closed_loop"]

    async def in_closed_loop() -> bool:
        return bool(await db.scalar(select(func.count()).select_from(Feedback)
                                    .where(Feedback.id == item.id, closed_loop)))
    assert await in_closed_loop()  # resolved and linked to a delivered improvement
    page = await client.get(f"/track/{item.tracking_code}")
    assert 'data-testid="was-it-fixed"' in page.text
    before = datetime.now(UTC)
    reopened = await post_form(client, f"/track/{item.tracking_code}/fixed", {"fixed": "no", "body": "لم يُصلح"})
    assert reopened.status_code == 303 and "done=reopened" in reopened.headers["location"]
    again = await db.scalar(select(Feedback).where(Feedback.id == item.id)
                            .execution_options(populate_existing=True))
    assert again.status is Status.IN_PROGRESS and again.resolved_at is None
    assert again.due_at >= before + timedelta(days=4)  # the agency's SLA (5 days) counted from the reopening
    page = await client.get(reopened.headers["location"])
    assert 'data-testid="due"' in page.text and 'data-testid="status">قيد التنفيذ<' in page.text
    assert not await in_closed_loop()
    refused = await post_form(client, f"/track/{item.tracking_code}/fixed", {"fixed": "no"})
    assert refused.status_code == 409  # only a resolved item can be reopened


async def test_me_too_can_be_taken_back(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    item = await IntakeService(db).submit(Submission(agency="passports", body="طوابير طويلة في موقع الحجز",
                                                     publish=True))
    await db.commit()
    added = await post_form(client, f"/feedback/{item.id}/support", {}, headers={"hx-request": "true"})
    assert 'data-testid="supporters">١<' in added.text and f"/feedback/{item.id}/support/undo" in added.text
    board = await client.get("/feedback")
    assert f"/feedback/{item.id}/support/undo" in board.text  # the board remembers it is pressed
    for _twice in range(2):
        undone = await post_form(client, f"/feedback/{item.id}/support/undo", {}, headers={"hx-request": "true"})
        assert 'data-testid="supporters">٠<' in undone.text and 'aria-pressed="false"' in undone.text
    assert (await db.scalar(select(Feedback.supporters).where(Feedback.id == item.id)
                            .execution_options(populate_existing=True))) == 0


async def test_authors_cannot_support_their_own_idea(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from tests.test_awards import make_idea

    agency = await make_agency(db, "passports")
    author = await make_user(db, Role.CITIZEN)
    other = await make_user(db, Role.CITIZEN)
    idea = await make_idea(db, author, "حجز المواعيد من التطبيق", agency.id)
    await sign_in(client, author.email)
    own = await post_form(client, f"/ideas/{idea.id}/vote", {})
    assert own.status_code == 409
    page = await client.get(f"/ideas/{idea.id}")
    assert f"/ideas/{idea.id}/vote" not in page.text  # no button to press
    await client.post("/signout", data={"_csrf_token": client.cookies.get("voice_csrf", "")})
    client.cookies.clear()
    await sign_in(client, other.email)
    assert (await post_form(client, f"/ideas/{idea.id}/vote", {})).status_code in (200, 303)


async def test_an_author_edits_or_withdraws_an_idea_before_review(client: httpx.AsyncClient,
                                                                 db: AsyncSession) -> None:
    from ideas.models import Idea, IdeaStatus
    from tests.test_awards import make_idea

    agency = await make_agency(db, "passports")
    author = await make_user(db, Role.CITIZEN)
    idea = await make_idea(db, author, "حجز المواعيد من التطبيق", agency.id, status=IdeaStatus.SUBMITTED)
    await sign_in(client, author.email)
    page = await client.get(f"/ideas/{idea.id}")
    assert 'data-testid="author-actions"' in page.text
    short = await post_form(client, f"/ideas/{idea.id}/edit", {"title": "قصير", "description": "وصف"})
    assert short.status_code == 422 and 'value="قصير"' in short.text  # the form keeps what was typed
    edited = await post_form(client, f"/ideas/{idea.id}/edit", {
        "title": "حجز المواعيد وتعديلها من التطبيق", "description": "إتاحة حجز المواعيد وتعديلها دون زيارة الفرع"})
    assert edited.status_code == 303
    fresh = await db.scalar(select(Idea).where(Idea.id == idea.id).execution_options(populate_existing=True))
    assert fresh.title == "حجز المواعيد وتعديلها من التطبيق" and "دون زيارة الفرع" in fresh.description_public
    withdrawn = await post_form(client, f"/ideas/{idea.id}/withdraw", {})
    assert withdrawn.status_code == 303
    fresh = await db.scalar(select(Idea).where(Idea.id == idea.id).execution_options(populate_existing=True))
    assert fresh.status is IdeaStatus.WITHDRAWN and not fresh.is_public
    again = await post_form(client, f"/ideas/{idea.id}/edit", {"title": "عنوان جديد للفكرة", "description": "وصف"})
    assert again.status_code == 409  # withdrawn: no more changes
    reviewed = await make_idea(db, author, "فكرة قيد المراجعة الآن", agency.id, status=IdeaStatus.UNDER_REVIEW)
    assert (await post_form(client, f"/ideas/{reviewed.id}/withdraw", {})).status_code == 409
    other = await make_user(db, Role.CITIZEN)
    mine = await make_idea(db, other, "فكرة شخص آخر تمامًا", agency.id, status=IdeaStatus.SUBMITTED)
    assert (await post_form(client, f"/ideas/{mine.id}/withdraw", {})).status_code == 403
    # The edit form refuses the same way, in the reader's words (it used to fail with a 500).
    assert (await client.get(f"/ideas/{mine.id}/edit")).status_code == 403
    assert (await client.get(f"/ideas/{reviewed.id}/edit")).status_code == 409
