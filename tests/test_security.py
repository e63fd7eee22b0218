"""Security properties that must hold whatever the feature: stored XSS, CSRF on every form route,
cookie flags, CSP, personal data kept off public pages and feeds, and the audit trail.

See docs/security.md for the threat model and where each control lives.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar.routes import HTTPRoute
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea, IdeaComment
from ideas.services import IdeaDraft, IdeaService
from tests import conftest
from tests.conftest import csrf_token, post_form, unique_email
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.models import AuditEvent, Role, User
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Event, Feedback, Report
from voice.feedback.models import Response as Answer
from voice.settings import Settings
from voice.themes.models import Theme
from voice.workspace.models import Improvement, Transfer

# Markup that must never reach a page as markup; each wrapped in Arabic too.
MARKUP = [
    "<img src=x onerror=alert(1)>",
    '"><svg/onload=alert(2)>',
    '<a href="javascript:alert(3)">اضغط هنا</a>',
    "<script>alert('صوت')</script>",
    "javascript:alert(4)",
]
MARKUP += [f"الخدمة بطيئة جدا {p} أرجو الحل" for p in MARKUP[:3]]
# Not markup: accepted as text, and must be shown as typed (never evaluated by the template engine).
TEMPLATE = "الخدمة {{7*7}} و ${7*7} و {% raw %} لا تعمل"
RAW = re.compile(r"<img src=x|<svg/onload|<script>alert\(|href=\"javascript:|<a href=\"javascript", re.I)


def assert_escaped(html: str, where: str) -> None:
    hit = RAW.search(html)
    assert hit is None, f"{where}: raw user markup in the page: …{html[max(0, hit.start() - 80):hit.end() + 80]}…"


def assert_template_literal(html: str, where: str) -> None:
    assert "{{7*7}}" in html, f"{where}: the text {{{{7*7}}}} is not shown as typed"
    assert "الخدمة 49" not in html, f"{where}: {{{{7*7}}}} was evaluated"


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    client.cookies.clear()
    response = await post_form(client, "/signin", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text[:300]


def other_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url="http://testserver")


async def count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0


async def world(db: AsyncSession) -> dict:
    home = await make_agency(db, "passports")
    other = await make_agency(db, "traffic")
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=home)
    admin = await make_user(db, Role.ADMIN)
    citizen = await make_user(db)
    item = await IntakeService(db).submit(Submission(
        agency="passports", body="تطبيق الجوازات لا يرسل رمز التحقق منذ يومين", publish=True,
        contact_email="private.person@example.sa"))
    await db.commit()
    return {"home": home, "other": other, "staff": staff, "admin": admin, "citizen": citizen, "item": item}


# ----- stored XSS ---------------------------------------------------------------------------------


async def test_markup_in_feedback_and_staff_texts_is_refused_and_nothing_stored(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    item = w["item"]
    for payload in MARKUP:
        refused = await post_form(client, "/feedback", {
            "agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": payload})
        assert refused.status_code == 422, payload
        assert_escaped(refused.text, f"feedback form refusing {payload!r}")
        bad_mail = await post_form(client, "/feedback", {
            "agency": "passports", "kind": "complaint", "submitter_kind": "individual",
            "body": "الخدمة لا تعمل منذ أمس", "contact_email": payload})
        assert bad_mail.status_code == 422, payload
        assert_escaped(bad_mail.text, f"feedback form refusing e-mail {payload!r}")
    assert await count(db, Feedback) == 1

    await sign_in(client, w["staff"].email)
    base = f"/agency/feedback/{item.id}"
    for payload in MARKUP:
        for path, data in ((f"{base}/answer", {"body": payload, "visibility": "public"}),
                           (f"{base}/status", {"status": "declined", "reason": payload}),
                           (f"{base}/note", {"note": payload}),
                           (f"{base}/transfer", {"agency": "traffic", "reason": payload}),
                           ("/agency/improvements", {"title": "تحسين", "kind": "service", "status": "delivered",
                                                     "description": payload})):
            answer = await post_form(client, path, data)
            assert answer.status_code in (400, 422), f"{path} accepted {payload!r}: {answer.status_code}"
            assert_escaped(answer.text, f"{path} refusing {payload!r}")
    assert await count(db, Answer) == 0 and await count(db, Transfer) == 0 and await count(db, Improvement) == 0
    assert await db.scalar(select(func.count()).select_from(Event).where(Event.kind == "note")) == 0
    item_now = await db.scalar(select(Feedback).where(Feedback.id == item.id).execution_options(populate_existing=True))
    assert item_now.agency_id == w["home"].id and item_now.status.value == "received"

    anonymous = other_client(client)
    for payload in MARKUP:
        reported = await post_form(anonymous, f"/feedback/{item.id}/report", {"reason": payload})
        assert reported.status_code in (400, 422), payload
    assert await count(db, Report) == 0


async def test_accepted_user_text_is_escaped_on_every_page_that_shows_it(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    payload = '<img src=x onerror=alert(1)> "><svg/onload=alert(2)> {{7*7}}'
    # Sign-up: name and organisation are free text (not filtered), so they must be escaped.
    email = unique_email("xss")
    signup = await post_form(client, "/signup", {
        "email": email, "password": PASSWORD, "full_name": "ريم " + payload, "kind": "government",
        "organisation": "وزارة " + payload})
    assert signup.status_code == 303, signup.text[:500]
    # Signed in once the e-mail is confirmed (tests/test_sign_in.py follows the mailed link).
    await db.execute(update(User).where(User.email == email).values(email_verified_at=func.now()))
    await db.commit()
    assert (await post_form(client, "/signin", {"email": email, "password": PASSWORD})).status_code == 303
    account = await client.get("/account")
    assert "ريم &lt;img src=x onerror=alert(1)&gt;" in account.text  # shown, as text
    assert_escaped(account.text, "/account")
    user = await db.scalar(select(User).where(User.email == email))
    user.role, user.agency_id = Role.AGENCY_STAFF, w["home"].id  # becomes staff: name in the agency's pickers
    theme = Theme(agency_id=w["home"].id, scope="feedback", key="t1", label="موضوع", keywords=["رمز"], size=1)
    db.add(theme)
    await db.commit()

    # Staff: accepted text containing template syntax; improvement and theme titles with raw markup.
    await sign_in(client, w["staff"].email)
    item = w["item"]
    base = f"/agency/feedback/{item.id}"
    assert (await post_form(client, f"{base}/note", {"note": TEMPLATE})).status_code == 303
    assert (await post_form(client, f"{base}/answer", {"body": TEMPLATE, "visibility": "public"})).status_code == 303
    assert (await post_form(client, f"/agency/themes/{theme.id}/rename", {"label": payload})).status_code == 303
    assert (await post_form(client, "/agency/improvements", {
        "title": "تحسين " + payload, "kind": "service", "status": "delivered", "description": TEMPLATE,
        "themes": str(theme.id)})).status_code == 303
    staff_pages = [base, "/agency", "/agency/inbox", f"/agency/themes/{theme.id}", "/agency/improvements"]
    for path in staff_pages:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.text, path)
    assert_template_literal((await client.get(base)).text, base)
    transfer = await post_form(client, f"{base}/transfer", {"agency": "traffic", "reason": TEMPLATE})
    assert transfer.status_code == 303
    transfers = await client.get("/agency/transfers")
    assert_escaped(transfers.text, "/agency/transfers")
    assert_template_literal(transfers.text, "/agency/transfers")

    # Citizen text with template syntax, and what the public sees.
    anonymous = other_client(client)
    sent = await post_form(anonymous, "/feedback", {"agency": "traffic", "kind": "complaint",
                                                    "submitter_kind": "individual", "body": TEMPLATE, "publish": "on"})
    assert sent.status_code == 303
    code = sent.headers["location"].split("/")[2].split("?")[0]
    await post_form(anonymous, f"/feedback/{item.id}/report", {"reason": TEMPLATE})
    for path in (f"/track/{code}", f"/track/{item.tracking_code}", "/feedback", "/feedback?agency=traffic",
                 "/you-said-we-did"):
        page = await anonymous.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.text, path)
    assert_template_literal((await anonymous.get(f"/track/{code}")).text, "/track (body)")
    assert_template_literal((await anonymous.get(f"/track/{item.tracking_code}")).text, "/track (answer)")
    assert_template_literal((await anonymous.get("/you-said-we-did")).text, "/you-said-we-did")
    await sign_in(client, w["admin"].email)
    for path in ("/admin", "/admin/moderation"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.text, path)


async def test_idea_texts_are_refused_or_escaped(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    await sign_in(client, w["citizen"].email)
    for payload in MARKUP:
        for data in ({"title": payload, "description": "فكرة لتحسين خدمة تجديد الجواز عبر التطبيق"},
                     {"title": "فكرة لتحسين التجديد", "description": payload}):
            refused = await post_form(client, "/ideas", {**data, "category": "other"})
            assert refused.status_code in (400, 403, 422), f"idea accepted {payload!r}: {refused.status_code}"
            assert_escaped(refused.text, f"/ideas refusing {payload!r}")
    assert await count(db, Idea) == 0
    idea = await IdeaService(db).submit(IdeaDraft(title="فكرة " + TEMPLATE[:40], description=TEMPLATE), w["citizen"])
    await db.commit()
    for payload in MARKUP:
        refused = await post_form(client, f"/ideas/{idea.id}/comments", {"body": payload})
        assert refused.status_code in (400, 422), payload
        assert_escaped(refused.text, f"comment refusing {payload!r}")
    assert await count(db, IdeaComment) == 0
    assert (await post_form(client, f"/ideas/{idea.id}/comments", {"body": TEMPLATE})).status_code == 303
    for path in ("/ideas", f"/ideas/{idea.id}", "/api/v1/ideas"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert_escaped(page.text, path)
    assert_template_literal((await client.get(f"/ideas/{idea.id}")).text, "/ideas/{id}")


# ----- CSRF ---------------------------------------------------------------------------------------


def _unsafe_html_routes(app: object) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/api/", "/open311/", "/schema", "/static")):
            continue
        for method in sorted(route.methods - {"GET", "HEAD", "OPTIONS"}):
            out.append((method, re.sub(r"\{[^}:]+:int\}", "1", re.sub(r"\{[^}:]+:str\}", "X", route.path))))
    return out


async def test_every_unsafe_html_route_refuses_a_request_without_csrf_token(
        app: object, client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    routes = _unsafe_html_routes(app)
    assert len(routes) >= 30 and ("POST", "/feedback") in routes and ("POST", "/signin") in routes
    # As a platform admin, so no role guard answers before the CSRF check would.
    await sign_in(client, w["admin"].email)
    missing = []
    for method, path in routes:
        for headers in ({}, {"x-csrftoken": "forged-token"}):
            response = await client.request(method, path, data={"body": "x", "_csrf_token": "nope"},
                                            headers=headers)
            if response.status_code != 403:
                missing.append(f"{method} {path} {headers} -> {response.status_code}")
    assert not missing, "accepted without a valid CSRF token:\n" + "\n".join(missing)
    # The control: the same kind of request with the real token is not refused by CSRF.
    token = await csrf_token(client)
    ok = await client.post("/feedback", data={"agency": "passports", "kind": "praise", "submitter_kind": "individual",
                                              "body": "خدمة ممتازة وسريعة", "_csrf_token": token})
    assert ok.status_code == 303


async def test_form_post_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/signin")
    response = await client.post("/signin", data={"email": "a@example.sa", "password": "x"})
    assert response.status_code == 403
    assert "Traceback" not in response.text


async def test_htmx_request_with_csrf_header_passes(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post("/signin", data={"email": "a@example.sa", "password": "wrong password"},
                                 headers={"x-csrftoken": token, "hx-request": "true"})
    assert response.status_code == 401  # reached the handler: CSRF passed, credentials did not


async def test_api_ignores_the_session_cookie(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Exempt from CSRF because only a Bearer token authenticates there: a browser session is nobody."""
    w = await world(db)
    await sign_in(client, w["staff"].email)
    assert (await client.get("/api/v1/agency/feedback")).status_code == 401
    assert (await client.post(f"/api/v1/agency/feedback/{w['item'].id}/responses",
                              json={"body": "رد من جلسة متصفح"})).status_code == 401
    assert await count(db, Answer) == 0


# ----- cookies and headers ------------------------------------------------------------------------


async def test_anonymous_visitor_gets_no_session_cookie(client: httpx.AsyncClient) -> None:
    await client.get("/")
    await client.get("/signin")
    assert "voice_session" not in client.cookies


def test_https_base_url_turns_on_secure_cookies(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("VOICE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VOICE_BASE_URL", "https://voice.example.sa")
    monkeypatch.delenv("VOICE_SECURE_COOKIES", raising=False)
    assert Settings.from_env().secure_cookies is True
    monkeypatch.setenv("VOICE_BASE_URL", "http://127.0.0.1:8000")
    assert Settings.from_env().secure_cookies is False
    monkeypatch.delenv("VOICE_BASE_URL")
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104 - the setting under test
    assert Settings.from_env().secure_cookies is True


@pytest.fixture
async def https_client(database_url: str, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    from voice.app import create_app

    settings = replace(conftest.test_settings(database_url), secure_cookies=True, base_url="https://voice.example.sa")
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://voice.example.sa") as c:
            yield c


def _set_cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


async def test_session_and_csrf_cookies_are_secure_httponly_samesite(https_client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    user = await make_user(db)
    page = await https_client.get("/signin")
    csrf = _set_cookie(page, "voice_csrf").lower()
    assert "secure" in csrf and "samesite=strict" in csrf
    assert "httponly" in csrf, f"voice_csrf is readable by scripts: {csrf}"
    signed = await https_client.post("/signin", data={"email": user.email, "password": PASSWORD,
                                                      "_csrf_token": https_client.cookies["voice_csrf"]})
    assert signed.status_code == 303
    session = _set_cookie(signed, "voice_session").lower()
    assert "secure" in session and "httponly" in session and "samesite=lax" in session
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_csp_forbids_inline_script_except_on_the_api_docs(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    for path in ("/", "/feedback/new", "/feedback", "/track", f"/track/{w['item'].tracking_code}", "/signin",
                 "/ideas", "/you-said-we-did", "/no-such-page", "/api/v1/agencies", "/static/css/app.css"):
        response = await client.get(path)
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert response.headers["x-content-type-options"] == "nosniff", path
    docs = await client.get("/schema")
    assert "unsafe-inline" in docs.headers["content-security-policy"]


async def test_security_headers_on_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script>" not in response.text  # no inline script anywhere in the shell


async def test_html_pages_are_served_as_html(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """With nosniff, a page sent with another type is shown as source text (or not at all)."""
    await world(db)
    wrong = []
    for path in ("/", "/feedback/new", "/feedback", "/track", "/track?code=nope", "/signin", "/signup", "/ideas",
                 "/you-said-we-did"):
        response = await client.get(path)
        if not response.headers.get("content-type", "").startswith("text/html"):
            wrong.append(f"{path}: {response.status_code} {response.headers.get('content-type')}")
    bad_form = await post_form(client, "/feedback", {"agency": "passports", "body": "قصير"})
    if not bad_form.headers.get("content-type", "").startswith("text/html"):
        wrong.append(f"POST /feedback (invalid): {bad_form.status_code} {bad_form.headers.get('content-type')}")
    failed = await post_form(other_client(client), "/signin", {"email": "nobody@example.sa", "password": "wrong"})
    if not failed.headers.get("content-type", "").startswith("text/html"):
        wrong.append(f"POST /signin (wrong password): {failed.status_code} {failed.headers.get('content-type')}")
    assert not wrong, "HTML answers with the wrong Content-Type:\n" + "\n".join(wrong)


# ----- personal data ------------------------------------------------------------------------------


async def test_private_data_never_reaches_public_pages_or_feeds(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    national_id, phone, email = "1087654321", "0551234567", "private.person@example.sa"
    item = await IntakeService(db).submit(Submission(
        agency="passports", body=f"رقم هويتي {national_id} وجوالي {phone} ولم يصلني رمز التحقق",
        publish=True, contact_email=email))
    await db.commit()
    staff = w["staff"]
    await sign_in(client, staff.email)
    assert (await post_form(client, f"/agency/feedback/{item.id}/answer",
                            {"body": "تم حل المشكلة، شكرا لك", "visibility": "public"})).status_code == 303
    assert (await post_form(client, "/agency/improvements", {
        "title": "رمز التحقق يصل الآن", "kind": "service", "status": "delivered", "feedback": str(item.id)})
    ).status_code == 303
    anonymous = other_client(client)
    public = ["/feedback", "/feedback?agency=passports", f"/track/{item.tracking_code}", "/you-said-we-did",
              f"/api/v1/feedback/{item.tracking_code}", "/open311/v2/requests.json",
              f"/open311/v2/requests/{item.tracking_code}.json", f"/open311/v2/requests/{item.tracking_code}",
              ]
    for path in public:
        response = await anonymous.get(path)
        if response.status_code == 404 and "open311" in path:
            continue  # one of the alternative Open311 addresses
        assert response.status_code == 200, f"{path}: {response.status_code}"
        for secret in (national_id, phone, email, "example.sa"):
            assert secret not in response.text, f"{secret} on public {path}"
    assert "ولم يصلني رمز التحقق" in (await anonymous.get("/feedback")).text  # the item is there, redacted
    # Searching the board by someone's ID number does not confirm that it was written anywhere.
    assert "ولم يصلني رمز التحقق" not in (await anonymous.get("/feedback", params={"q": national_id})).text
    # The agency itself still sees the original.
    own = await client.get(f"/agency/feedback/{item.id}")
    assert national_id in own.text and email in own.text


# ----- audit trail --------------------------------------------------------------------------------


async def test_privileged_actions_leave_audit_events(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await world(db)
    item = w["item"]
    second = await IntakeService(db).submit(Submission(agency="passports", body="الموقع يتوقف عند الدفع دائما",
                                                         publish=True))
    theme = Theme(agency_id=w["home"].id, scope="feedback", key="t1", label="موضوع", keywords=[], size=1)
    db.add(theme)
    await db.commit()
    await sign_in(client, w["staff"].email)
    base = f"/agency/feedback/{item.id}"
    for path, data in ((f"{base}/answer", {"body": "نعمل على حل المشكلة", "visibility": "public"}),
                       (f"{base}/status", {"status": "in_review", "reason": ""}),
                       (f"/agency/themes/{theme.id}/rename", {"label": "رمز التحقق"}),
                       ("/agency/improvements", {"title": "إصلاح رمز التحقق", "kind": "service", "status": "planned"}),
                       (f"/agency/feedback/{second.id}/transfer", {"agency": "traffic", "reason": "من اختصاص المرور"})):
        response = await post_form(client, path, data)
        assert response.status_code == 303, f"{path}: {response.status_code}"
    await sign_in(client, w["admin"].email)
    hidden = await post_form(client, f"/admin/moderation/feedback/{item.id}", {"action": "hide", "reason": "إساءة"})
    assert hidden.status_code == 303
    rows = (await db.execute(select(AuditEvent.action, AuditEvent.actor_id))).all()
    actions = {a for a, _actor in rows}
    expected = {"feedback.answer", "feedback.status", "theme.rename", "improvement.save", "feedback.transfer",
                "feedback.hide"}
    assert expected <= actions, f"missing audit events: {expected - actions}"
    actors = {a: actor for a, actor in rows}
    assert actors["feedback.answer"] == w["staff"].id and actors["feedback.hide"] == w["admin"].id
