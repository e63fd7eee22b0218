"""Voice of the beneficiary through HTTP: the form (and its htmx partials), tracking, the public board
with redaction and search, answers reaching the tracking page and the mailbox, and agency scoping."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import csrf_token, post_form
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Channel, Event, Feedback, Status
from voice.feedback.moderation import ModerationService
from voice.feedback.tracking import TRACKING_ALPHABET, new_tracking_code, normalize_tracking_code

BODY = "تطبيق الجوازات لا يرسل رمز التحقق OTP منذ يومين ولا أستطيع تجديد الجواز"


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    response = await post_form(client, "/signin", {"email": email, "password": PASSWORD})
    assert response.status_code == 303


def test_tracking_codes_are_readable_and_unguessable() -> None:
    codes = {new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert not set(code.replace("-", "")) & set("0O1IL2Z5S8B6GUVQ")
    assert len(TRACKING_ALPHABET) ** 12 > 10**15
    code = new_tracking_code()
    assert normalize_tracking_code(code.lower().replace("-", " ")) == code
    assert normalize_tracking_code("AAAA") is None


async def test_form_submission_without_htmx_redirects_to_receipt(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    response = await post_form(client, "/feedback", {
        "agency": "passports", "service": "renewal", "kind": "complaint", "submitter_kind": "individual",
        "rating": "٢", "body": BODY, "contact_email": "", "publish": "on"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/track/")
    item = await db.scalar(select(Feedback))
    assert item.rating == 2 and item.publish and item.is_public and item.channel is Channel.WEB
    assert item.due_at - item.created_at == timedelta(days=5)  # the agency's SLA (factory default)
    assert item.service is not None and item.service.slug == "renewal"
    created = await db.scalar(select(Event).where(Event.feedback_id == item.id))
    assert created.kind == "created" and created.to_status == "received" and created.public
    receipt = await client.get(location)
    assert item.tracking_code in receipt.text and "شكرًا" in receipt.text


async def test_htmx_form_flow_partials(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    page = await client.get("/feedback/new")
    assert page.status_code == 200 and 'hx-post="/feedback"' in page.text
    services = await client.get("/feedback/services?agency=passports", headers={"hx-request": "true"})
    assert "<html" not in services.text and 'value="renewal"' in services.text
    token = await csrf_token(client)
    bad = await client.post("/feedback", data={"agency": "passports", "kind": "complaint", "submitter_kind":
                             "individual", "body": "قصير", "_csrf_token": token}, headers={"hx-request": "true"})
    assert bad.status_code == 200 and "<html" not in bad.text
    assert 'id="feedback-form"' in bad.text and "is-invalid" in bad.text
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0
    ok = await client.post("/feedback", data={"agency": "passports", "kind": "suggestion", "submitter_kind":
                           "business", "body": BODY, "_csrf_token": token}, headers={"hx-request": "true"})
    # The receipt has its own address (post/redirect/get): htmx is told to go there.
    assert ok.status_code == 200 and ok.headers["hx-redirect"].startswith("/track/")
    receipt = await client.get(ok.headers["hx-redirect"])
    code = re.search(r'data-testid="tracking-code">([^<]+)<', receipt.text).group(1)
    assert await db.scalar(select(Feedback.tracking_code)) == code


async def test_bad_input_is_refused_clearly_and_stores_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    cases = {
        "empty body": {"body": "   "},
        "oversized": {"body": "ا" * 5001},
        "script": {"body": 'مرحبا <script>alert("x")</script> الخدمة سيئة'},
        "unknown agency": {"agency": "nope"},
        "service of another agency": {"service": "nope"},
        "rating out of range": {"rating": "9"},
        "bad e-mail": {"contact_email": "not-mail"},
        "bad kind": {"kind": "rant"},
    }
    for name, change in cases.items():
        data = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": BODY, **change}
        response = await post_form(client, "/feedback", data)
        assert 400 <= response.status_code < 500, name
        assert 'lang="ar"' in response.text and ("is-invalid" in response.text or "text-danger" in response.text), name
    # Direction overrides are refused in every field before any handler runs (voice.web.hygiene).
    data = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual",
            "body": "الخدمة \u202eسيئة جدا\u202c اليوم"}
    bidi = await post_form(client, "/feedback", data)
    assert bidi.status_code == 400 and 'lang="ar"' in bidi.text and "رموز خفية لتغيير اتجاه الكتابة" in bidi.text
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0


async def test_api_submit_with_idempotency(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    payload = {"agency": "passports", "service": "renewal", "kind": "complaint", "submitter_kind": "individual",
               "body": BODY, "rating": 3, "publish": True}
    headers = {"Idempotency-Key": "0b3f1c9e-5a43-4f7a-9d2e-6c1b8f2e9a10"}
    first = await client.post("/api/v1/feedback", json=payload, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/feedback", json=payload, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 1
    other = await client.post("/api/v1/feedback", json={**payload, "body": BODY + " مرة أخرى"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert (await db.scalar(select(Feedback.channel))) is Channel.API

    tracked = await client.get(f"/api/v1/feedback/{first.json()['tracking_code']}")
    assert tracked.status_code == 200
    body = tracked.json()
    assert body["status"] == "received" and body["agency"] == "passports" and body["history"][0]["kind"] == "created"


async def test_idempotency_key_of_a_refused_request_stays_free(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """The key is claimed in the statement that stores the item: a refusal rolls the claim back too."""
    await make_agency(db, "passports")
    payload = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": BODY}
    headers = {"Idempotency-Key": "retry-after-fixing-it-1"}
    for wrong in ({"agency": "nope"}, {"service": "ghost"}):
        refused = await client.post("/api/v1/feedback", json={**payload, **wrong}, headers=headers)
        assert refused.status_code == 422 and list(refused.json()["errors"]) == list(wrong)
    fixed = await client.post("/api/v1/feedback", json=payload, headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 1


async def test_concurrent_retries_with_one_key_store_one_item(client: httpx.AsyncClient, db: AsyncSession) -> None:
    import asyncio

    await make_agency(db, "passports")
    payload = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": BODY}
    headers = {"Idempotency-Key": "same-key-from-a-flaky-network"}
    answers = await asyncio.gather(*(client.post("/api/v1/feedback", json=payload, headers=headers)
                                     for _ in range(8)))
    created = [r for r in answers if r.status_code == 201]
    # Retries never share a statement with the first request (the intake queue keeps one key per batch):
    # they find the key claimed and replay its answer, or get 409 while its statement is still running.
    assert created and all(r.status_code in (201, 409) for r in answers), [r.status_code for r in answers]
    assert len({r.json()["id"] for r in created}) == 1
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 1


async def test_api_bad_input(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    base = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": BODY}
    malformed = await client.post("/api/v1/feedback", content=b'{"agency": "passports", ',
                                  headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    non_utf8 = await client.post("/api/v1/feedback", content=b'{"agency": "\xff\xfe"}',
                                 headers={"content-type": "application/json"})
    assert non_utf8.status_code == 400
    # A body shorter than the struct declares (minLength, from clean_body's bound) is refused by the decoder
    # (400, like any value outside the description), on the field, in the service's words.
    empty = await client.post("/api/v1/feedback", json={**base, "body": ""}, headers={"Accept-Language": "en"})
    assert empty.status_code == 400 and empty.json()["errors"] == {"body": "Please write at least 5 characters."}
    for change, field in [({"agency": "nope"}, "agency"), ({"rating": 0}, "rating"), ({"body": "     "}, "body"),
                          ({"kind": "x"}, "kind"), ({"service": "ghost"}, "service")]:
        response = await client.post("/api/v1/feedback", json={**base, **change}, headers={"Accept-Language": "en"})
        assert response.status_code == 422, change
        assert field in response.json()["errors"], change
    unknown_field = await client.post("/api/v1/feedback", json={**base, "admin": True})
    assert unknown_field.status_code == 400
    short_key = await client.post("/api/v1/feedback", json=base, headers={"Idempotency-Key": "abc"})
    assert short_key.status_code == 422
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0  # nothing half-written
    missing = await client.get("/api/v1/feedback/AAAA-AAAA-AAAA")
    assert missing.status_code == 404


async def test_board_redacts_personal_data_and_searches_across_spellings(client: httpx.AsyncClient,
                                                                           db: AsyncSession) -> None:
    await make_agency(db, "passports")
    private = "رقم هويتي 1098765432 وجوالي 0551234567 والمشكلة في تجديد جوازات السفر"
    for body, publish in [(private, "on"), ("الموقع بطيء جداً في ساعات الذروة", "on"),
                          ("هذا نص غير منشور عن الجوازات", "")]:
        response = await post_form(client, "/feedback", {"agency": "passports", "kind": "complaint",
                                                         "submitter_kind": "individual", "body": body,
                                                         "publish": publish})
        assert response.status_code == 303
    board = await client.get("/feedback")
    assert board.status_code == 200
    assert "1098765432" not in board.text and "0551234567" not in board.text
    assert "[رقم هوية]" in board.text and "[هاتف]" in board.text
    assert "غير منشور" not in board.text
    # "الجواز" (with the article, singular) finds "جوازات" — normalized words and their stems.
    found = await client.get("/feedback", params={"q": "الجواز"})
    assert "تجديد" in found.text and "بطيء" not in found.text
    none = await client.get("/feedback", params={"q": "كهرباء"})
    assert "تجديد" not in none.text


async def test_board_pages_with_a_cursor(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from voice.feedback.intake.service import IntakeService
    from voice.feedback.intake.submission import Submission

    await make_agency(db, "passports")
    service = IntakeService(db)
    for i in range(25):
        await service.submit(Submission(agency="passports", body=f"ملاحظة رقم {i} عن الخدمة", publish=True))
    await db.commit()
    first = await client.get("/feedback")
    assert first.text.count('class="board-item') == 20
    cursor = re.search(r'hx-get="/feedback\?cursor=([^"]+)"', first.text).group(1)
    second = await client.get(f"/feedback?cursor={cursor}", headers={"hx-request": "true"})
    assert second.text.count('class="board-item') == 5 and "<html" not in second.text
    assert "ملاحظة رقم 0 " in second.text and "ملاحظة رقم 24" in first.text


async def test_me_too_once_per_person_and_per_device(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    await post_form(client, "/feedback", {"agency": "passports", "kind": "complaint", "submitter_kind":
                                          "individual", "body": BODY, "publish": "on"})
    item = await db.scalar(select(Feedback))
    token = await csrf_token(client)
    for _ in range(3):
        r = await client.post(f"/feedback/{item.id}/support", data={"_csrf_token": token},
                              headers={"hx-request": "true"})
        assert r.status_code == 200
    assert 'data-testid="supporters">١<' in r.text
    user = await make_user(db)
    await sign_in(client, user.email)
    await post_form(client, f"/feedback/{item.id}/support", {})
    await post_form(client, f"/feedback/{item.id}/support", {})
    await db.refresh(item)
    assert item.supporters == 2


async def test_staff_answer_reaches_tracking_page_and_mailbox(client: httpx.AsyncClient, db: AsyncSession,
                                                             mailbox, run_jobs) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await post_form(client, "/feedback", {"agency": "passports", "kind": "complaint", "submitter_kind":
                                          "individual", "body": BODY, "contact_email": "citizen@example.sa",
                                          "publish": "on"})
    item = await db.scalar(select(Feedback))
    await sign_in(client, staff.email)
    answer = "شكراً لتواصلكم، تم إصلاح خلل إرسال الرمز ويمكنكم المحاولة الآن."
    r = await post_form(client, f"/agency/feedback/{item.id}/answer", {"body": answer, "visibility": "public"})
    assert r.status_code == 303
    r = await post_form(client, f"/agency/feedback/{item.id}/status", {"status": "resolved"})
    assert r.status_code == 303
    await db.refresh(item)
    assert item.status is Status.RESOLVED and item.first_response_at and item.resolved_at

    anonymous = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    page = await anonymous.get(f"/track/{item.tracking_code}")
    assert answer in page.text and "تمت المعالجة" in page.text
    rated = await post_form(anonymous, f"/track/{item.tracking_code}/rating", {"satisfaction": "4"})
    assert rated.status_code == 303
    await db.refresh(item)
    assert item.satisfaction == 4

    await run_jobs()
    mails = mailbox.to("citizen@example.sa")
    assert len(mails) == 2  # the answer and the status change (the worker may send them in any order)
    [text] = [m.get_content() for m in mails if answer in m.get_content()]
    assert item.tracking_code in text and "/track?code=" in text
    assert "answered your feedback" in text  # the English half follows the Arabic one


async def test_decline_needs_a_reason(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await post_form(client, "/feedback", {"agency": "passports", "kind": "complaint", "submitter_kind":
                                          "individual", "body": BODY})
    item = await db.scalar(select(Feedback))
    await sign_in(client, staff.email)
    refused = await post_form(client, f"/agency/feedback/{item.id}/status", {"status": "declined"})
    assert refused.status_code == 422 and "الرفض يحتاج إلى سبب يقرؤه صاحب الملاحظة." in refused.text
    ok = await post_form(client, f"/agency/feedback/{item.id}/status",
                         {"status": "declined", "reason": "الخدمة تتبع جهة أخرى"})
    assert ok.status_code == 303
    events = (await db.scalars(select(Event).where(Event.feedback_id == item.id).order_by(Event.id))).all()
    assert [e.kind for e in events] == ["created", "status"]
    assert events[1].actor_id == staff.id and events[1].note == "الخدمة تتبع جهة أخرى"


async def test_staff_cannot_see_or_act_on_another_agencys_items(client: httpx.AsyncClient, db: AsyncSession) -> None:
    mine = await make_agency(db, "passports")
    theirs = await make_agency(db, "traffic")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=mine)
    await post_form(client, "/feedback", {"agency": "traffic", "kind": "complaint", "submitter_kind": "individual",
                                          "body": "مخالفة مسجلة بالخطأ رقم هويتي 1098765432",
                                          "contact_email": "private@example.sa"})
    foreign = await db.scalar(select(Feedback).where(Feedback.agency_id == theirs.id))
    await sign_in(client, staff.email)
    page = await client.get(f"/agency/feedback/{foreign.id}")
    assert page.status_code == 404 and "1098765432" not in page.text and "private@example.sa" not in page.text
    inbox = await client.get("/agency/feedback")
    assert "مخالفة" not in inbox.text
    for path, data in [("answer", {"body": "رد غير مسموح به هنا"}), ("status", {"status": "resolved"}),
                       ("approve", {})]:
        response = await post_form(client, f"/agency/feedback/{foreign.id}/{path}", data)
        assert response.status_code == 404, path
    await db.refresh(foreign)
    assert foreign.status is Status.RECEIVED and foreign.first_response_at is None


async def test_owning_agency_sees_original_text(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "traffic")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await post_form(client, "/feedback", {"agency": "traffic", "kind": "complaint", "submitter_kind": "individual",
                                          "body": "مخالفة مسجلة بالخطأ رقم هويتي 1098765432", "publish": "on"})
    item = await db.scalar(select(Feedback))
    await sign_in(client, staff.email)
    page = await client.get(f"/agency/feedback/{item.id}")
    assert "1098765432" in page.text


async def test_publish_after_review_and_moderation(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "moh")
    agency.publish_after_review = True
    await db.commit()
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    admin = await make_user(db, Role.ADMIN)
    await post_form(client, "/feedback", {"agency": "moh", "kind": "praise", "submitter_kind": "individual",
                                          "body": "شكراً على خدمة الاستشارات الافتراضية الممتازة", "publish": "on"})
    item = await db.scalar(select(Feedback))
    assert not item.is_public
    assert "الاستشارات" not in (await client.get("/feedback")).text
    await sign_in(client, staff.email)
    assert (await post_form(client, f"/agency/feedback/{item.id}/approve", {})).status_code == 303
    await post_form(client, "/signout", {})
    assert "الاستشارات" in (await client.get("/feedback")).text

    reported = await post_form(client, f"/feedback/{item.id}/report", {"reason": "محتوى غير لائق"})
    assert reported.status_code == 303
    await sign_in(client, admin.email)
    queue = await client.get("/admin/moderation")
    assert "محتوى غير لائق" in queue.text
    no_reason = await post_form(client, f"/admin/moderation/feedback/{item.id}", {"action": "hide", "reason": ""})
    assert no_reason.status_code == 422
    hidden = await post_form(client, f"/admin/moderation/feedback/{item.id}",
                             {"action": "hide", "reason": "مخالف للشروط"})
    assert hidden.status_code == 303
    await post_form(client, "/signout", {})
    assert "الاستشارات" not in (await client.get("/feedback")).text


async def test_answer_and_close_is_refused_whole_when_the_item_may_not_close(db: AsyncSession) -> None:
    """The life cycle's transition check holds for answering-and-closing too (what a bulk answer does):
    a resolved item may be answered, but not resolved again, and a refusal writes nothing."""
    from voice.errors import Conflict
    from voice.feedback.intake.service import IntakeService
    from voice.feedback.intake.submission import Submission
    from voice.feedback.lifecycle import LifecycleService
    from voice.feedback.models import Response

    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    item = await IntakeService(db).submit(Submission(agency="passports", body=BODY))
    lifecycle = LifecycleService(session=db)
    await lifecycle.answer(staff, item.id, "تم إصلاح الخلل، جربوا الآن.", close=True)
    assert item.status is Status.RESOLVED and item.resolved_at and item.first_response_at
    kinds = (await db.scalars(select(Event.kind).where(Event.feedback_id == item.id).order_by(Event.id))).all()
    assert kinds == ["created", "answer", "status"]
    with pytest.raises(Conflict) as refused:
        await lifecycle.answer(staff, item.id, "رد ثان مع إغلاق مرة أخرى", close=True)
    assert "status" in refused.value.errors
    assert await db.scalar(select(func.count()).select_from(Response).where(Response.feedback_id == item.id)) == 1
    await lifecycle.answer(staff, item.id, "رد إضافي دون تغيير الحالة")  # answering alone stays allowed
    assert await db.scalar(select(func.count()).select_from(Response).where(Response.feedback_id == item.id)) == 2


async def test_agency_cannot_undo_a_moderators_hiding(client, db) -> None:
    from sqlalchemy import select

    from tests.conftest import post_form
    from tests.factories import PASSWORD, make_agency, make_user
    from voice.accounts.models import Role
    from voice.feedback.models import Feedback, Moderation

    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    admin = await make_user(db, Role.ADMIN)
    item = await IntakeService(db).submit(Submission(agency="passports", body="نص منشور ثم مخفي", publish=True))
    await db.commit()
    await ModerationService(session=db).moderate(admin, item.id, "hide", "مخالف")
    await db.commit()
    await post_form(client, "/signin", {"email": staff.email, "password": PASSWORD})
    refused = await post_form(client, f"/agency/feedback/{item.id}/approve", {})
    assert refused.status_code == 409
    after = await db.scalar(select(Feedback).where(Feedback.id == item.id).execution_options(populate_existing=True))
    assert after.moderation is Moderation.HIDDEN and not after.is_public


async def test_status_notes_are_redacted_on_the_tracking_page(client, db) -> None:
    from tests.factories import make_agency, make_user
    from voice.accounts.models import Role

    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    item = await IntakeService(db).submit(Submission(agency="passports", body="طلب تجديد متأخر"))
    await db.commit()
    await LifecycleService(session=db).change_status(staff, item.id, "declined", "صاحب الهوية 1098765432 غير مؤهل")
    await db.commit()
    for path in (f"/track/{item.tracking_code}", f"/api/v1/feedback/{item.tracking_code}"):
        page = await client.get(path)
        assert page.status_code == 200 and "1098765432" not in page.text and "[رقم هوية]" in page.text


@pytest.mark.parametrize("path", [
    "/feedback?cursor=2024-01-01T00:00:00~99999999999999999999",
    "/feedback?cursor=9999-12-31T23:59:59-23:59~1",
    "/feedback?cursor=2024-01-01T00:00:00~1",  # no time zone: read as UTC
])
async def test_odd_board_cursors_start_from_the_top(client, db, path: str) -> None:
    assert (await client.get(path)).status_code == 200
