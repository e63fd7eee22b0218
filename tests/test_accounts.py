"""Sign-up, sign-in, sign-out, lockout, role guards and API tokens — all through HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import csrf_token, post_form, unique_email
from tests.factories import PASSWORD, make_agency, make_token, make_user
from voice.accounts.models import AuditEvent, Role, User


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await post_form(client, "/signin", {"email": email, "password": password})


async def test_sign_up_creates_an_unverified_citizen_and_asks_to_check_the_mail(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    email = unique_email("Citizen")
    response = await post_form(client, "/signup", {
        "full_name": "نورة العتيبي", "display_name": "نورة", "email": email, "password": PASSWORD,
        "kind": "individual"})
    assert response.status_code == 303 and response.headers["location"] == "/check-email?for=signup"
    assert "voice_session" not in client.cookies  # signed in only after the e-mail is confirmed
    user = await db.scalar(select(User).where(User.email == email.lower()))
    assert user is not None and user.role is Role.CITIZEN and not user.email_verified
    assert user.password_hash.startswith("$argon2id$")
    assert (user.full_name, user.display_name) == ("نورة العتيبي", "نورة")
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and "راجع بريدك" in page.text


async def test_sign_up_business_needs_commercial_registration(client: httpx.AsyncClient, db: AsyncSession) -> None:
    email = unique_email("biz")
    response = await post_form(client, "/signup", {
        "full_name": "مؤسسة النخبة", "email": email, "password": PASSWORD, "kind": "business", "cr_number": "12"})
    assert response.status_code == 422
    assert "رقم السجل التجاري" in response.text
    assert await db.scalar(select(func.count()).select_from(User)) == 0
    # Arabic-Indic digits are accepted and stored as ASCII.
    ok = await post_form(client, "/signup", {
        "full_name": "مؤسسة النخبة", "email": email, "password": PASSWORD, "kind": "business",
        "cr_number": "١٠١٠٢٣٤٥٦٧"})
    assert ok.status_code == 303
    assert (await db.scalar(select(User.cr_number).where(User.email == email))) == "1010234567"


async def test_sign_up_rejects_weak_password_and_bad_email_in_arabic(client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    response = await post_form(client, "/signup", {
        "full_name": "سالم", "email": "not-an-email", "password": "short", "kind": "individual"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "البريد الإلكتروني" in response.text
    assert "١٢" in response.text or "12" in response.text  # the minimum length is stated
    assert await db.scalar(select(func.count()).select_from(User)) == 0


async def test_sign_up_twice_with_same_email_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, email="dup@example.sa")
    response = await post_form(client, "/signup", {
        "full_name": "مكرر", "email": "DUP@example.sa", "password": PASSWORD, "kind": "individual"})
    # The same answer as for a new address (the owner is told by e-mail), and no second account.
    assert response.status_code == 303 and response.headers["location"] == "/check-email?for=signup"
    assert await db.scalar(select(func.count()).select_from(User)) == 1


async def test_sign_in_and_sign_out(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    response = await sign_in(client, user.email.upper())
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200
    out = await post_form(client, "/signout", {})
    assert out.status_code == 303
    after = await client.get("/account")
    assert after.status_code == 303 and after.headers["location"].startswith("/signin?next=")


async def test_sign_in_issues_a_new_session_id(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Session fixation: an id planted before sign-in must not become the signed-in session."""
    user = await make_user(db)
    token = await csrf_token(client)
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": token},
                                 headers={"cookie": f"voice_csrf={token}; voice_session=planted-by-attacker"})
    assert response.status_code == 303
    issued = response.headers["set-cookie"]
    assert "voice_session=" in issued and "planted-by-attacker" not in issued


async def test_wrong_password_is_refused_in_arabic(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    response = await sign_in(client, user.email, "not the password at all")
    assert response.status_code == 401
    assert "غير صحيحة" in response.text
    assert "voice_session" not in client.cookies
    failures = await db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "account.signin_failed"))
    assert failures == 1


async def test_repeated_failures_make_this_client_wait(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    for _ in range(4):
        assert (await sign_in(client, user.email, "wrong wrong wrong")).status_code == 401
    waiting = await sign_in(client, user.email)  # even the right password waits, on this client
    assert waiting.status_code == 429 and waiting.headers["retry-after"]
    assert "حاول مجددًا" in waiting.text


async def test_next_parameter_only_redirects_within_the_site(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    response = await post_form(client, "/signin", {"email": user.email, "password": PASSWORD,
                                                   "next": "//evil.example/steal"})
    assert response.headers["location"] == "/"
    await post_form(client, "/signout", {})
    ok = await post_form(client, "/signin", {"email": user.email, "password": PASSWORD, "next": "/account"})
    assert ok.headers["location"] == "/account"


async def test_role_guards(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    citizen = await make_user(db, Role.CITIZEN)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    admin = await make_user(db, Role.ADMIN)

    anonymous = await client.get("/admin")
    assert anonymous.status_code == 303  # to the sign-in page

    await sign_in(client, citizen.email)
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/agency")).status_code == 403
    await post_form(client, "/signout", {})

    await sign_in(client, staff.email)
    assert (await client.get("/admin")).status_code == 403
    page = await client.get("/agency")
    assert page.status_code == 200 and agency.name_ar in page.text
    await post_form(client, "/signout", {})

    await sign_in(client, admin.email)
    assert (await client.get("/admin")).status_code == 200
    listing = await client.get("/admin/people")
    assert listing.status_code == 200 and staff.email in listing.text


async def test_api_token_authenticates_and_session_cookie_does_not(client: httpx.AsyncClient,
                                                                   db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    token = await make_token(db, staff)

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["role"] == "agency_admin" and me.json()["agency"] == agency.slug

    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer voice_nope"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")

    # A browser session does not authenticate API calls (they are exempt from CSRF).
    await sign_in(client, staff.email)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_token_created_on_account_page_works(client: httpx.AsyncClient, db: AsyncSession) -> None:
    import re

    user = await make_user(db)
    await sign_in(client, user.email)
    page = await post_form(client, "/account/tokens", {"name": "my script"})
    token = re.search(r'data-testid="new-token">([^<]+)<', page.text).group(1)
    me = await httpx.AsyncClient(transport=client._transport, base_url="http://testserver").get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == user.email


async def test_my_contributions_my_data_and_erasing_my_account(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from ideas.models import IdeaComment
    from ideas.services import IdeaDraft, IdeaService
    from voice.feedback.models import Feedback

    agency = await make_agency(db, "passports")
    user = await make_user(db)
    user.full_name, user.display_name = "هند عبدالله الشمري", "هند"
    await db.commit()
    await sign_in(client, user.email)
    sent = await post_form(client, "/feedback", {"agency": "passports", "kind": "suggestion",
                                                 "submitter_kind": "individual",
                                                 "body": "أقترح إضافة خيار الدفع عبر المحفظة الرقمية في التجديد"})
    assert sent.status_code == 303
    idea = await IdeaService(session=db).submit(IdeaDraft(
        title="تذكير قبل انتهاء الجواز", problem="ينسى الناس موعد التجديد فتتعطل سفراتهم",
        description="رسالة قبل شهرين من انتهاء صلاحية الجواز مع رابط التجديد المباشر", category="digital_services",
        agency=agency.slug), user)
    await db.commit()
    assert (await post_form(client, f"/ideas/{idea.id}/comments", {"body": "وأيضًا تذكير للهوية الوطنية"})
            ).status_code in (200, 303)
    mine = await client.get("/account/contributions")
    assert mine.status_code == 200 and "تذكير قبل انتهاء الجواز" in mine.text and "وأيضًا تذكير" in mine.text
    code = (await db.scalar(select(Feedback.tracking_code).where(Feedback.user_id == user.id)))
    assert code in mine.text
    # Public pages show the display name, never the legal name.
    public = await client.get(f"/ideas/{idea.id}")
    assert "هند" in public.text and "الشمري" not in public.text
    data = await client.get("/account/data.json")
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/json")
    exported = data.json()
    assert exported["account"]["full_name"] == "هند عبدالله الشمري" and exported["feedback"][0]["tracking_code"] == code
    assert exported["ideas"][0]["title"] == "تذكير قبل انتهاء الجواز" and exported["comments"]

    wrong = await post_form(client, "/account/erase", {"confirm": "someone@else.sa"})
    assert wrong.status_code == 422
    erased = await post_form(client, "/account/erase", {"confirm": user.email})
    assert erased.status_code == 303
    assert (await client.get("/account")).status_code == 303  # signed out
    assert (await post_form(client, "/signin", {"email": user.email, "password": PASSWORD})).status_code == 401
    await db.refresh(user)
    assert user.erased_at and user.display_name is None and "الشمري" not in user.full_name
    # Public texts stay, anonymised; the agency keeps the feedback, unlinked from the person.
    public = await client.get(f"/ideas/{idea.id}")
    assert public.status_code == 200 and "تذكير قبل انتهاء الجواز" in public.text and "هند" not in public.text
    assert await db.scalar(select(func.count()).select_from(IdeaComment)) == 1
    item = await db.scalar(select(Feedback).where(Feedback.tracking_code == code))
    assert item is not None and item.user_id is None


async def test_password_change_needs_the_current_one_and_signs_out_other_devices(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await make_user(db)
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(other, user.email)
    assert (await other.get("/account")).status_code == 200
    await sign_in(client, user.email)
    wrong = await post_form(client, "/account/password", {"current_password": "not it at all",
                                                          "new_password": "a brand new passphrase"})
    assert wrong.status_code == 422 and "الحالية غير صحيحة" in wrong.text
    weak = await post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422
    ok = await post_form(client, "/account/password", {"current_password": PASSWORD,
                                                       "new_password": "a brand new passphrase"})
    assert ok.status_code == 303
    assert (await client.get("/account")).status_code == 200  # this device stays signed in
    assert (await other.get("/account")).status_code == 303  # the other one does not
    await post_form(client, "/signout", {})
    assert (await sign_in(client, user.email, "a brand new passphrase")).status_code == 303
