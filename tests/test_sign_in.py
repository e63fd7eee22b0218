"""Signing in through the real HTTP paths: back-off per account and client, identical answers for known
and unknown e-mails, sign-out, landing pages, e-mail verification, password reset (mail read from the
SMTP sink), TOTP enrolment and sign-in, and the national single sign-on against a real OpenID Connect
provider on loopback."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests import conftest
from tests.conftest import MailSink, post_form, unique_email
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.lockout import FREE_FAILURES, wait_after
from voice.accounts.models import AccountToken, Role, SignInFailure, User
from voice.accounts.settings import AccountsSettings, OidcSettings

NEW_PASSWORD = "another long passphrase"


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock, a PyPI package) on a loopback port."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
async def strict_app(database_url: str, oidc_provider: str, mail_sink: MailSink) -> AsyncIterator[object]:
    """The app as production runs it: second factor required for staff, single sign-on configured."""
    from voice.app import create_app

    settings = conftest.test_settings(database_url, smtp_host="127.0.0.1", smtp_port=mail_sink.port)
    sections = {"accounts": AccountsSettings(two_factor_required=True, oidc=OidcSettings(
        issuer=oidc_provider, client_id="voice-test", client_secret="voice-test-secret"))}
    application = create_app(settings, sections=sections)
    async with LifespanManager(application):
        yield application


def browser(app: object, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False)


@pytest.fixture
async def web(strict_app: object, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(strict_app) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await post_form(client, "/signin", {"email": email, "password": password})


def link_in(mail: object, path: str) -> str:
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    found = re.search(r"https?://\S+(" + re.escape(path) + r"\?token=[\w-]+)", body)
    assert found, body
    return found.group(1)


# ----- back-off and identical answers --------------------------------------------------------------

async def test_failures_slow_down_that_client_only_and_exponentially(web: httpx.AsyncClient, strict_app: object,
                                                                     db: AsyncSession) -> None:
    user = await make_user(db)
    for _ in range(FREE_FAILURES):
        assert (await sign_in(web, user.email, "wrong wrong wrong")).status_code == 401
    assert (await sign_in(web, user.email, "wrong wrong wrong")).status_code == 401
    waiting = await sign_in(web, user.email)  # even the right password waits for this client
    assert waiting.status_code == 429 and int(waiting.headers["retry-after"]) >= 1
    assert "محاولات كثيرة" in waiting.text
    # The owner on another device is not slowed at all: nobody can lock anybody out.
    async with browser(strict_app, "10.9.8.7") as owner:
        assert (await sign_in(owner, user.email)).status_code == 303
    row = await db.scalar(select(SignInFailure).where(SignInFailure.client == "127.0.0.1"))
    assert row is not None and row.failures == FREE_FAILURES + 1
    assert [wait_after(n).total_seconds() for n in range(FREE_FAILURES, FREE_FAILURES + 5)] == [0, 2, 4, 8, 16]


async def test_known_and_unknown_emails_get_the_same_answers(web: httpx.AsyncClient, db: AsyncSession,
                                                             mailbox: MailSink, run_jobs) -> None:
    user = await make_user(db)
    unknown = unique_email("nobody")
    answers = []
    for email in (user.email, unknown):
        for _ in range(FREE_FAILURES + 1):
            wrong = await sign_in(web, email, "wrong wrong wrong")
            answers.append((wrong.status_code, wrong.text.replace(email, "E")))
        blocked = await sign_in(web, email, "wrong wrong wrong")
        answers.append((blocked.status_code, re.sub(r"\d+", "N", blocked.text.replace(email, "E"))))
    half = len(answers) // 2
    assert answers[:half] == answers[half:]
    assert [a[0] for a in answers[:half]] == [401] * (FREE_FAILURES + 1) + [429]

    # Sign-up with a taken address and with a new one: the same redirect, the same page.
    form = {"full_name": "سارة", "password": PASSWORD, "kind": "individual"}
    taken = await post_form(web, "/signup", {**form, "email": user.email})
    fresh = await post_form(web, "/signup", {**form, "email": unknown})
    assert (taken.status_code, taken.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    assert "voice_session" not in web.cookies  # nobody is signed in by signing up
    # Forgotten password: the same answer.
    a = await post_form(web, "/password/forgot", {"email": user.email})
    b = await post_form(web, "/password/forgot", {"email": unique_email("ghost")})
    assert (a.status_code, a.headers["location"]) == (b.status_code, b.headers["location"])
    await run_jobs()
    # The owner of the taken address is told; the new address gets its verification link.
    assert any("Someone tried" in m["Subject"] or "محاولة" in m["Subject"] for m in mailbox.to(user.email))
    assert link_in(mailbox.to(unknown)[0], "/verify")


async def test_sign_out_clears_the_session_cookie(web: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    await sign_in(web, user.email)
    out = await post_form(web, "/signout", {})
    cookie = next(h for h in out.headers.get_list("set-cookie") if h.startswith("voice_session="))
    assert "Max-Age=0" in cookie
    assert (await web.get("/account")).status_code == 303


async def test_each_role_lands_where_its_work_is(web: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    citizen = await make_user(db)
    assert (await sign_in(web, citizen.email)).headers["location"] == "/"
    await post_form(web, "/signout", {})
    # Staff would land in the inbox once their second factor is set up: they are sent to enrol first.
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    assert (await sign_in(web, staff.email)).headers["location"] == "/signin/enrol"
    # A given same-site next wins; another site's does not.
    await post_form(web, "/signout", {})
    ok = await post_form(web, "/signin", {"email": citizen.email, "password": PASSWORD, "next": "/ideas"})
    assert ok.headers["location"] == "/ideas"


# ----- e-mail verification and password reset ---------------------------------------------------

async def test_email_verification_through_the_mailed_link(web: httpx.AsyncClient, db: AsyncSession,
                                                          mailbox: MailSink, run_jobs) -> None:
    email = unique_email("new")
    await post_form(web, "/signup", {"full_name": "ليلى الحربي", "display_name": "ليلى", "email": email,
                                     "password": PASSWORD, "kind": "individual"})
    refused = await sign_in(web, email)
    assert refused.status_code == 403 and "أكّد" in refused.text
    await run_jobs()
    link = link_in(mailbox.to(email)[-1], "/verify")
    done = await web.get(link)
    assert done.status_code == 303 and done.headers["location"] == "/signin?verified=1"
    again = await web.get(link)
    assert again.status_code == 422 and "استُخدم" in again.text  # single use
    assert (await sign_in(web, email)).status_code == 303
    user = await db.scalar(select(User).where(User.email == email))
    assert user.email_verified and user.display_name == "ليلى" and user.full_name == "ليلى الحربي"


async def test_password_reset_is_single_use_expires_and_ends_every_session(
        strict_app: object, web: httpx.AsyncClient, db: AsyncSession, mailbox: MailSink, run_jobs) -> None:
    user = await make_user(db)
    async with browser(strict_app, "10.0.0.2") as other_device:
        assert (await sign_in(other_device, user.email)).status_code == 303
        assert (await other_device.get("/account")).status_code == 200
        signin_page = await web.get("/signin")
        assert 'href="/password/forgot"' in signin_page.text
        await post_form(web, "/password/forgot", {"email": user.email})
        await run_jobs()
        link = link_in(mailbox.to(user.email)[-1], "/password/reset")
        token = parse_qs(urlsplit(link).query)["token"][0]
        assert (await web.get(link)).status_code == 200
        weak = await post_form(web, "/password/reset", {"token": token, "password": "short"})
        assert weak.status_code == 422  # refused, and the link still works
        done = await post_form(web, "/password/reset", {"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 303
        reused = await post_form(web, "/password/reset", {"token": token, "password": NEW_PASSWORD + "x"})
        assert reused.status_code == 422 and "استُخدم" in reused.text
        # The other device's session has ended.
        assert (await other_device.get("/account")).status_code == 303
    assert (await sign_in(web, user.email)).status_code == 401
    assert (await sign_in(web, user.email, NEW_PASSWORD)).status_code == 303
    # An expired link is refused with a clear message.
    await post_form(web, "/signout", {})
    await post_form(web, "/password/forgot", {"email": user.email})
    await run_jobs()
    link = link_in(mailbox.to(user.email)[-1], "/password/reset")
    row = await db.scalar(select(AccountToken).where(AccountToken.used_at.is_(None)))
    row.expires_at = row.created_at
    await db.commit()
    expired = await web.get(link)
    assert expired.status_code == 422 and "انتهت" in expired.text


# ----- two-factor ---------------------------------------------------------------------------------

async def test_staff_enrol_totp_at_first_sign_in_then_need_a_code(strict_app: object, web: httpx.AsyncClient,
                                                                   db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    assert (await sign_in(web, staff.email)).headers["location"] == "/signin/enrol"
    assert (await web.get("/agency/inbox")).status_code == 303  # not signed in until enrolled
    page = await web.get("/signin/enrol")
    assert page.status_code == 200 and "<svg" in page.text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    wrong = await post_form(web, "/signin/enrol", {"code": "000000" if pyotp.TOTP(secret).now() != "000000"
                                                   else "111111"})
    assert wrong.status_code == 422 and "غير صحيح" in wrong.text
    done = await post_form(web, "/signin/enrol", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.text)
    assert len(codes) == 10
    assert (await web.get("/agency/inbox")).status_code == 200

    # Next time: password, then a code (or a recovery code, once).
    await post_form(web, "/signout", {})
    assert (await sign_in(web, staff.email)).headers["location"] == "/signin/code"
    assert (await post_form(web, "/signin/code", {"code": "12345"})).status_code == 422
    ok = await post_form(web, "/signin/code", {"code": codes[0], "remember": "1"})
    assert ok.status_code == 303 and ok.headers["location"] == "/agency/inbox"
    assert any(h.startswith("voice_device=") for h in ok.headers.get_list("set-cookie"))
    await post_form(web, "/signout", {})
    # The remembered device skips the code; a recovery code works only once.
    assert (await sign_in(web, staff.email)).headers["location"] == "/agency/inbox"
    async with browser(strict_app, "10.1.1.1") as elsewhere:
        assert (await sign_in(elsewhere, staff.email)).headers["location"] == "/signin/code"
        assert (await post_form(elsewhere, "/signin/code", {"code": codes[0]})).status_code == 422


async def test_wrong_codes_are_throttled(web: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    await sign_in(web, admin.email)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', (await web.get("/signin/enrol")).text).group(1)
    await post_form(web, "/signin/enrol", {"code": pyotp.TOTP(secret).now()})
    await post_form(web, "/signout", {})
    await sign_in(web, admin.email)
    statuses = [(await post_form(web, "/signin/code", {"code": "999999"})).status_code
                for _ in range(FREE_FAILURES + 2)]
    assert statuses[:FREE_FAILURES + 1] == [422] * (FREE_FAILURES + 1) and statuses[-1] == 429
    # Even the right code waits now.
    assert (await post_form(web, "/signin/code", {"code": pyotp.TOTP(secret).now()})).status_code == 429


async def test_a_code_is_good_once(web: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    await sign_in(web, admin.email)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', (await web.get("/signin/enrol")).text).group(1)
    totp = pyotp.TOTP(secret)
    now = time.time()
    # Enrolment spends the current step's code; the next step's code (clock drift) still works once.
    assert (await post_form(web, "/signin/enrol", {"code": totp.at(now)})).status_code == 200
    await post_form(web, "/signout", {})
    await sign_in(web, admin.email)
    replay = await post_form(web, "/signin/code", {"code": totp.at(now)})
    assert replay.status_code == 422 and "غير صحيح" in replay.text
    assert (await post_form(web, "/signin/code", {"code": totp.at(now + 30)})).status_code == 303
    await post_form(web, "/signout", {})
    await sign_in(web, admin.email)
    assert (await post_form(web, "/signin/code", {"code": totp.at(now + 30)})).status_code == 422


# ----- national single sign-on --------------------------------------------------------------------

async def _provider_login(oidc_provider: str, location: str, sub: str, tamper: dict | None = None) -> str:
    """Act as the person at the provider: authorize ``sub`` and return the provider's redirect back."""
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(tamper or {})
    async with httpx.AsyncClient() as provider:
        answer = await provider.post(f"{oidc_provider}{parts.path}", params=query, data={"sub": sub})
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


async def test_sso_signs_in_and_links_by_verified_email_or_national_id(
        web: httpx.AsyncClient, db: AsyncSession, oidc_provider: str) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    async with httpx.AsyncClient() as provider:
        await provider.put(f"{oidc_provider}/users/staff-1", json={
            "email": staff.email, "email_verified": True, "name": "موظفة", "national_id": "1012345678"})
        await provider.put(f"{oidc_provider}/users/citizen-1", json={
            "email": "newcomer@example.sa", "email_verified": True, "name": "مواطن جديد"})
    start = await web.get("/signin/sso")
    assert start.status_code == 303
    params = parse_qs(urlsplit(start.headers["location"]).query)
    assert params["code_challenge_method"] == ["S256"] and params["nonce"] and params["state"]
    back = await web.get(await _provider_login(oidc_provider, start.headers["location"], "staff-1"))
    assert back.status_code == 303, back.text[-1500:]
    assert back.headers["location"] == "/agency/inbox"  # no second code: SSO is strong
    linked = await db.scalar(select(User).where(User.id == staff.id))
    await db.refresh(linked)
    assert linked.oidc_subject == "staff-1" and linked.national_id == "1012345678"
    await post_form(web, "/signout", {})
    # A newcomer gets a citizen account, with the provider's name as the legal name only.
    start = await web.get("/signin/sso")
    back = await web.get(await _provider_login(oidc_provider, start.headers["location"], "citizen-1"))
    assert back.status_code == 303, back.text[back.text.find("<main"):back.text.find("</main>")]
    newcomer = await db.scalar(select(User).where(User.email == "newcomer@example.sa"))
    assert newcomer.role is Role.CITIZEN and newcomer.full_name == "مواطن جديد" and newcomer.display_name is None


async def test_sso_refuses_a_wrong_state_or_nonce(web: httpx.AsyncClient, db: AsyncSession,
                                                  oidc_provider: str) -> None:
    async with httpx.AsyncClient() as provider:
        await provider.put(f"{oidc_provider}/users/c-2", json={"email": "c2@example.sa", "email_verified": True})
    start = await web.get("/signin/sso")
    back = await _provider_login(oidc_provider, start.headers["location"], "c-2", tamper={"state": "forged"})
    wrong_state = await web.get(back)
    assert wrong_state.status_code == 400 and "state" in wrong_state.text and "ابدأ" in wrong_state.text
    start = await web.get("/signin/sso")
    back = await _provider_login(oidc_provider, start.headers["location"], "c-2", tamper={"nonce": "replayed"})
    wrong_nonce = await web.get(back)
    assert wrong_nonce.status_code == 400 and "nonce" in wrong_nonce.text
    assert await db.scalar(select(func.count()).select_from(User).where(User.email == "c2@example.sa")) == 0
    assert "voice_session" not in web.cookies or (await web.get("/account")).status_code == 303
