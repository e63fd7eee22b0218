"""Open311 GeoReport v2 through HTTP: the service list in both languages, sending a request (channel
open311), following it to "closed", the public list and its filters, redaction in every answer, and
errors in the standard's format (never problem+json, never a 500), with nothing stored on any error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency, make_token, make_user
from voice.accounts.models import Role, SubmitterKind
from voice.catalogue.models import Service
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Channel, Feedback, FeedbackKind, Status

BASE = "/open311/v2"
BODY = "تطبيق الجوازات لا يرسل رمز التحقق منذ يومين ولا أستطيع تجديد الجواز"
PRIVATE = "رقم هويتي 1098765432 وجوالي 0551234567 والمشكلة في تجديد الجواز"


async def count(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(Feedback))


def assert_open311_error(response: httpx.Response, status: int) -> list[dict]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and body, body
    for entry in body:
        assert set(entry) == {"code", "description"} and entry["code"] == status and entry["description"]
    assert "Traceback" not in response.text
    return body


async def submit(db: AsyncSession, body: str = BODY, publish: bool = True, service: str | None = "renewal",
                 agency: str = "passports") -> Feedback:
    item = await IntakeService(db).submit(Submission(agency=agency, service=service, body=body, publish=publish))
    await db.commit()
    return item


async def test_services_list_our_catalogue_in_both_languages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    await make_agency(db, "traffic", services=[
        {"slug": "fines", "name_ar": "المخالفات", "name_en": "Traffic fines", "description_ar": "الاستعلام عن المخالفات"},
        {"slug": "retired", "name_ar": "خدمة متوقفة", "name_en": "Retired service"},
    ])
    await db.execute(update(Service).where(Service.slug == "retired").values(is_active=False))
    await db.commit()

    arabic = await client.get(f"{BASE}/services.json")
    assert arabic.status_code == 200 and arabic.headers["content-type"].startswith("application/json")
    services = {s["service_code"]: s for s in arabic.json()}
    assert set(services) == {"passports.renewal", "passports.booking", "traffic.fines"}
    fines = services["traffic.fines"]
    assert fines == {"service_code": "traffic.fines", "service_name": "المخالفات",
                     "description": "الاستعلام عن المخالفات", "metadata": False, "type": "realtime",
                     "keywords": "complaint,suggestion,praise,question", "group": "وزارة traffic"}
    assert services["passports.renewal"]["service_name"] == "تجديد"

    for kwargs in ({"params": {"lang": "en"}}, {"headers": {"Accept-Language": "en-GB,en;q=0.9"}}):
        english = await client.get(f"{BASE}/services.json", **kwargs)
        names = {s["service_code"]: (s["service_name"], s["group"]) for s in english.json()}
        assert names["passports.renewal"] == ("Renewal", "Ministry passports")
        assert names["traffic.fines"] == ("Traffic fines", "Ministry traffic")


async def test_post_creates_open311_feedback_without_location(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    response = await client.post(f"{BASE}/requests.json", data={
        "service_code": "passports.renewal", "description": BODY, "email": "Citizen@Example.sa",
        "first_name": "سارة", "last_name": "العتيبي", "phone": "0551234567", "api_key": "anything",
        "attribute[kind]": "suggestion", "attribute[submitter_kind]": "business", "attribute[publish]": "true",
    })
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None and created["service_notice"]

    item = await db.scalar(select(Feedback))
    assert item.tracking_code == created["service_request_id"]
    assert item.channel is Channel.OPEN311 and item.kind is FeedbackKind.SUGGESTION
    assert item.submitter_kind is SubmitterKind.BUSINESS and item.publish and item.is_public
    assert item.service.slug == "renewal" and item.contact_email == "citizen@example.sa"
    assert item.body == BODY and "سارة" not in item.body_public and "0551234567" not in item.body_public

    # Defaults: a private complaint by an individual; JSON with a nested "attribute" object works too.
    plain = await client.post(f"{BASE}/requests.json", data={"service_code": "passports.booking",
                                                               "description": BODY, "lat": "24.7", "long": "46.7"})
    assert plain.status_code == 201
    as_json = await client.post(f"{BASE}/requests.json", json={
        "service_code": "passports.booking", "description": BODY, "attribute": {"kind": "praise", "publish": False}})
    assert as_json.status_code == 201, as_json.text
    rows = {f.tracking_code: f for f in (await db.scalars(select(Feedback))).all()}
    default = rows[plain.json()[0]["service_request_id"]]
    assert (default.kind, default.submitter_kind, default.publish) == (
        FeedbackKind.COMPLAINT, SubmitterKind.INDIVIDUAL, False)
    assert rows[as_json.json()[0]["service_request_id"]].kind is FeedbackKind.PRAISE
    assert all(f.channel is Channel.OPEN311 for f in rows.values())


async def test_bearer_token_links_the_author_and_a_bad_one_is_refused(client: httpx.AsyncClient,
                                                                      db: AsyncSession) -> None:
    await make_agency(db, "passports")
    user = await make_user(db)
    token = await make_token(db, user)
    data = {"service_code": "passports.renewal", "description": BODY}
    ok = await client.post(f"{BASE}/requests.json", data=data, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 201
    assert (await db.scalar(select(Feedback))).user_id == user.id
    refused = await client.post(f"{BASE}/requests.json", data=data, headers={"Authorization": "Bearer nope"})
    assert_open311_error(refused, 401)
    assert await count(db) == 1


async def test_request_is_open_then_closed_and_always_redacted(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    created = await client.post(f"{BASE}/requests.json", data={"service_code": "passports.renewal",
                                                                 "description": PRIVATE})
    code = created.json()[0]["service_request_id"]
    item = await db.scalar(select(Feedback))

    response = await client.get(f"{BASE}/requests/{code}.json")
    assert response.status_code == 200, response.text
    [request] = response.json()
    assert request["service_request_id"] == code and request["status"] == "open"
    assert request["status_notes"] is None and request["service_notice"]
    assert request["service_code"] == "passports.renewal" and request["service_name"] == "تجديد"
    assert request["agency_responsible"] == "وزارة passports"
    assert "[رقم هوية]" in request["description"] and "[هاتف]" in request["description"]
    assert "1098765432" not in response.text and "0551234567" not in response.text
    assert (request["address"], request["lat"], request["long"], request["media_url"]) == (None, None, None, None)
    for key, value in (("requested_datetime", item.created_at), ("expected_datetime", item.due_at)):
        stamp = datetime.fromisoformat(request[key])
        assert stamp.utcoffset() is not None and abs(stamp - value) < timedelta(seconds=1), key
    # The id is typed the way people type it: any case, no dashes.
    assert (await client.get(f"{BASE}/requests/{code.replace('-', '').lower()}.json")).status_code == 200

    await LifecycleService(session=db).change_status(staff, item.id, "in_progress")
    await LifecycleService(session=db).change_status(staff, item.id, "resolved", reason="تم إصلاح الخلل في إرسال الرمز")
    await db.commit()
    [closed] = (await client.get(f"{BASE}/requests/{code}.json", params={"lang": "en"})).json()
    assert closed["status"] == "closed" and closed["status_notes"] == "تم إصلاح الخلل في إرسال الرمز"
    assert closed["service_notice"] is None and closed["agency_responsible"] == "Ministry passports"
    assert datetime.fromisoformat(closed["updated_datetime"]) >= datetime.fromisoformat(request["updated_datetime"])
    assert "1098765432" not in str(closed)

    await LifecycleService(session=db).change_status(staff, item.id, "in_progress")  # reopened: no stale note
    await db.commit()
    [reopened] = (await client.get(f"{BASE}/requests/{code}.json")).json()
    assert reopened["status"] == "open" and reopened["status_notes"] is None


async def test_list_shows_only_public_items_with_filters(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    await make_agency(db, "traffic")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    redacted = await submit(db, PRIVATE)
    booking = await submit(db, "لا أجد موعداً متاحاً في الحجز منذ أسبوع", service="booking")
    hidden = await submit(db, "هذا نص غير منشور عن الجوازات", publish=False)
    general = await submit(db, "ملاحظة عامة عن الوزارة وخدماتها", service=None)
    other = await submit(db, "خدمة المخالفات بطيئة جدا اليوم", agency="traffic")
    old = await submit(db, "ملاحظة قديمة عمرها أكثر من تسعين يوما")
    await db.execute(update(Feedback).where(Feedback.id == old.id)
                     .values(created_at=datetime.now(UTC) - timedelta(days=120)))
    await LifecycleService(session=db).change_status(staff, booking.id, "declined", reason="الخدمة تتبع جهة أخرى")
    await db.commit()

    async def ids(**params: str) -> list[str]:
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        assert "1098765432" not in response.text and "0551234567" not in response.text
        return [r["service_request_id"] for r in response.json()]

    def pub(item: Feedback) -> str:
        """Lists show public ids; tracking codes unlock private answers and never appear in them."""
        return f"FB-{item.id}"

    newest_first = [pub(other), pub(general), pub(booking), pub(redacted)]
    assert await ids() == newest_first  # not the private item, nor the one older than 90 days
    listed = (await client.get(f"{BASE}/requests.json")).json()
    assert "[رقم هوية]" in listed[-1]["description"]
    assert listed[1]["service_code"] == "passports" and listed[1]["service_name"] == "وزارة passports"
    assert await ids(status="closed") == [pub(booking)]
    assert await ids(status="open") == [pub(other), pub(general), pub(redacted)]
    assert await ids(status="open,closed") == newest_first
    assert await ids(service_code="passports.renewal") == [pub(redacted)]
    assert await ids(service_code="traffic.renewal,passports.booking") == [pub(other),
                                                                            pub(booking)]
    assert await ids(service_code="passports") == [pub(general)]

    now = datetime.now(UTC)
    window = {"start_date": (now - timedelta(days=130)).isoformat(), "end_date": (now - timedelta(days=60)).isoformat()}
    assert await ids(**window) == [pub(old)]
    assert await ids(start_date=(now - timedelta(days=125)).strftime("%Y-%m-%d")) == [pub(old)]
    assert await ids(end_date=(now + timedelta(days=1)).isoformat()) == newest_first
    assert await ids(start_date=(now + timedelta(days=1)).isoformat()) == []

    # Explicit ids override the other filters, but a private item stays out of the list.
    wanted = ",".join([old.tracking_code, hidden.tracking_code, f"fb-{redacted.id}", "NOT-A-CODE"])
    assert set(await ids(service_request_id=wanted, status="closed")) == {pub(old),
                                                                          pub(redacted)}
    assert await ids(service_request_id=hidden.tracking_code) == []
    assert (await client.get(f"{BASE}/requests/{hidden.tracking_code}.json")).status_code == 200


async def test_errors_are_open311_arrays_and_store_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    url = f"{BASE}/requests.json"
    base = {"service_code": "passports.renewal", "description": BODY}

    missing = assert_open311_error(await client.post(url, data={"description": BODY}), 400)
    assert [e["description"].split(":")[0] for e in missing] == ["service_code"]
    both = assert_open311_error(await client.post(url, data={"email": "a@example.sa"}), 400)
    assert [e["description"].split(":")[0] for e in both] == ["service_code", "description"]
    english = assert_open311_error(await client.post(url, data={"description": BODY}, params={"lang": "en"}), 400)
    assert english[0]["description"] == "service_code: This parameter is required."
    assert missing[0]["description"] != english[0]["description"]  # Arabic by default

    for code in ("nope", "passports.nope", "passports.", "traffic.renewal"):
        unknown = assert_open311_error(await client.post(url, data={**base, "service_code": code}), 404)
        assert unknown[0]["description"].startswith("service_code:"), code

    cases = {
        "script": ({"description": 'مرحبا <script>alert("x")</script> الخدمة سيئة'}, "description"),
        "too short": ({"description": "قصير"}, "description"),
        "bad kind": ({"attribute[kind]": "rant"}, "attribute[kind]"),
        "bad submitter": ({"attribute[submitter_kind]": "robot"}, "attribute[submitter_kind]"),
        "bad publish": ({"attribute[publish]": "maybe"}, "attribute[publish]"),
        "bad e-mail": ({"email": "not-mail"}, "email"),
    }
    for name, (change, field) in cases.items():
        errors = assert_open311_error(await client.post(url, data={**base, **change}), 400)
        assert [e["description"].split(":")[0] for e in errors] == [field], name
    two = assert_open311_error(await client.post(url, data={**base, "attribute[kind]": "rant",
                                                            "description": "<script>x</script> الخدمة"}), 400)
    assert {e["description"].split(":")[0] for e in two} == {"description", "attribute[kind]"}

    form = {"content-type": "application/x-www-form-urlencoded"}
    for raw in (b"service_code=passports.renewal&description=\xff\xfe\xfd", b"service_code=passports.renewal&"
                b"description=%FF%FE%FD%FF%FE%FD"):
        assert_open311_error(await client.post(url, content=raw, headers=form), 400)
    assert_open311_error(await client.post(url, content=b'{"service_code": ', headers={
        "content-type": "application/json"}), 400)
    assert_open311_error(await client.post(url, json=["not", "an", "object"]), 400)
    assert_open311_error(await client.post(url, json={**base, "description": {"nested": True}}), 400)
    assert_open311_error(await client.post(url, content=b"<xml/>", headers={"content-type": "text/xml"}), 415)
    assert await count(db) == 0


async def test_bad_queries_and_addresses_answer_in_open311_format(client: httpx.AsyncClient,
                                                                  db: AsyncSession) -> None:
    await make_agency(db, "passports")
    url = f"{BASE}/requests.json"
    for params, field in [({"start_date": "yesterday"}, "start_date"), ({"end_date": "2025-13-45"}, "end_date"),
                          ({"start_date": "2025-01-01", "end_date": "2025-06-01"}, "end_date"),
                          ({"start_date": "2025-06-01", "end_date": "2025-01-01"}, "end_date"),
                          ({"end_date": "0001-01-01"}, "end_date"), ({"status": "pending"}, "status"),
                          # Valid ISO dates whose offset takes them out of the calendar (year 0, year 10000).
                          ({"start_date": "0001-01-01T00:00:00+23:59"}, "start_date"),
                          ({"end_date": "9999-12-31T23:59:00-23:59"}, "end_date")]:
        errors = assert_open311_error(await client.get(url, params=params), 400)
        assert errors[0]["description"].startswith(field + ":"), params
    both = assert_open311_error(await client.get(url, params={"start_date": "x", "end_date": "y"}), 400)
    assert len(both) == 2
    assert_open311_error(await client.get(url, params={"service_code": "nope"}), 404)
    assert_open311_error(await client.get(url, params={"service_request_id": ",".join(["AAAA-AAAA-AAAA"] * 101)}), 400)
    # "+03:00" sent unescaped arrives as a space: still understood.
    ok = await client.get(f"{url}?start_date=2025-01-01T00:00:00+03:00&end_date=2025-02-01T00:00:00+03:00")
    assert ok.status_code == 200 and ok.json() == []

    missing = assert_open311_error(await client.get(f"{BASE}/requests/AAAA-AAAA-AAAA.json"), 404)
    assert missing[0]["description"].startswith("service_request_id:")
    assert_open311_error(await client.get(f"{BASE}/requests/garbage.json"), 404)
    for path in ("/services.xml", "/requests.xml", "/requests/AAAA-AAAA-AAAA.xml"):
        xml = assert_open311_error(await client.get(BASE + path, params={"lang": "en"}), 400)
        assert "JSON" in xml[0]["description"], path
    assert_open311_error(await client.post(f"{BASE}/requests.xml", data={}), 400)
    for path in ("/discovery.json", "/services/passports.renewal.json", "/requests/a/b.json", "/nothing"):
        assert_open311_error(await client.get(BASE + path), 404)
    assert_open311_error(await client.put(f"{BASE}/services.json"), 405)
    assert_open311_error(await client.delete(url), 405)
    assert await count(db) == 0


async def test_posting_is_throttled(database_url: str, db: AsyncSession) -> None:
    from asgi_lifespan import LifespanManager

    from tests.conftest import test_settings
    from voice.app import create_app

    app = create_app(test_settings(database_url, rate_limit_enabled=True))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for _ in range(30):
                assert (await c.post(f"{BASE}/requests.json", data={})).status_code == 400
            limited = await c.post(f"{BASE}/requests.json", data={})
            assert_open311_error(limited, 429)
            assert "Retry-After" in limited.headers
            assert (await c.get(f"{BASE}/services.json")).status_code == 200  # reading is not throttled


async def test_database_down_is_a_503_in_open311_format() -> None:
    from asgi_lifespan import LifespanManager

    from tests.conftest import test_settings
    from voice.app import create_app

    app = create_app(test_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.get(f"{BASE}/services.json")
            assert_open311_error(response, 503)
            assert response.headers["Retry-After"] == "5"


async def test_every_status_is_listed_under_the_status_it_answers(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """The "status" filter and the "status" field agree for every status there is (both derive from
    ``Status.is_closed``): each item is found under exactly the one word its answer carries."""
    await make_agency(db, "passports")
    items = {status: await submit(db, f"ملاحظة عن تجديد الجواز في حالة {status.value}") for status in Status}
    for status, item in items.items():
        await db.execute(update(Feedback).where(Feedback.id == item.id).values(status=status))
    await db.commit()
    listed = {}
    for word in ("open", "closed"):
        response = await client.get(f"{BASE}/requests.json", params={"status": word})
        assert response.status_code == 200, response.text
        for request in response.json():
            assert request["status"] == word, request
            assert request["service_request_id"] not in listed  # under one word only
            listed[request["service_request_id"]] = word
    assert listed == {f"FB-{item.id}": "closed" if status.is_closed else "open" for status, item in items.items()}
    assert set(listed.values()) == {"open", "closed"}


async def test_open311_lists_never_reveal_tracking_codes(client, db) -> None:
    """The tracking code unlocks private answers; lists give a public id instead."""
    from tests.factories import make_agency

    await make_agency(db, "passports")
    public = await IntakeService(db).submit(Submission(agency="passports", body="الموقع بطيء جداً اليوم", publish=True))
    private = await IntakeService(db).submit(Submission(agency="passports", body="ملاحظة غير منشورة أبداً"))
    await db.commit()
    listing = await client.get("/open311/v2/requests.json")
    assert listing.status_code == 200
    assert public.tracking_code not in listing.text and private.tracking_code not in listing.text
    [row] = listing.json()
    assert row["service_request_id"] == f"FB-{public.id}"
    by_public_id = await client.get(f"/open311/v2/requests/FB-{public.id}.json")
    assert by_public_id.status_code == 200 and public.tracking_code not in by_public_id.text
    assert (await client.get(f"/open311/v2/requests/FB-{private.id}.json")).status_code == 404
    own = await client.get(f"/open311/v2/requests/{private.tracking_code}.json")  # the submitter's code
    assert own.status_code == 200 and own.json()[0]["service_request_id"] == private.tracking_code
