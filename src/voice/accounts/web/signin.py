"""Signing in and out: the password step, the second factor (a code, or enrolment when it is required
and missing), the national single sign-on, and where each role lands afterwards."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.accounts.oidc import OidcClient, SingleSignOnService
from voice.accounts.services import UserService, audit
from voice.accounts.settings import AccountsSettings
from voice.accounts.twofactor import (
    DEVICE_COOKIE,
    REMEMBER_DEVICE,
    TwoFactorService,
    device_remembered,
    qr_svg,
)
from voice.accounts.twofactor import remember_device as device_cookie_value
from voice.administration.lifecycle import AccountLifecycleService
from voice.errors import DomainError, Forbidden
from voice.i18n import _
from voice.web.auth import SESSION_EPOCH_KEY, SESSION_USER_KEY
from voice.web.forms import FormData, field, safe_next, url
from voice.web.sessions import rotate
from voice.web.throttle import throttle

PENDING = "pending"  # a person past the password step, before the second factor
OIDC = "oidc"  # the single sign-on request in progress (state, nonce, PKCE verifier)

_oidc_clients: dict[str, OidcClient] = {}


def accounts_settings(request: Request) -> AccountsSettings:
    return request.app.state.sections["accounts"]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def oidc_client(request: Request) -> OidcClient:
    oidc = accounts_settings(request).oidc
    if oidc is None:
        raise Forbidden(_("Single sign-on is not configured on this platform."))
    return _oidc_clients.setdefault(oidc.issuer + "|" + oidc.client_id, OidcClient(oidc))


def landing(request: Request, user: User) -> str:
    """Where each role's work is: staff → inbox, judges → judging, administrators → administration."""
    if user.role.is_agency:
        return url(request, "inbox")
    if user.role is Role.JUDGE:
        return url(request, "judging")
    if user.role is Role.ADMIN:
        return url(request, "admin")
    return url(request, "home")


async def complete_sign_in(request: Request, user: User, next_url: str, db_session: AsyncSession, via: str) -> Redirect:
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    request.session[SESSION_EPOCH_KEY] = user.session_epoch
    rotate(request.session)
    await UserService(session=db_session).signed_in(user)
    await audit(db_session, "account.signin", actor=user, target_type="user", target_id=user.id,
                agency_id=user.agency_id, ip=client_of(request), via=via)
    return Redirect(safe_next(next_url, "") or landing(request, user), status_code=303)


def _needs_enrolment(request: Request, user: User) -> bool:
    return not user.has_two_factor and user.role.is_privileged and accounts_settings(request).two_factor_required


async def after_first_factor(request: Request, user: User, next_url: str, db_session: AsyncSession,
                             via: str) -> Redirect:
    """Sign in now, or ask for the second factor (or its enrolment) first."""
    if user.has_two_factor and not device_remembered(request.app.state.settings.secret_key, user,
                                                      request.cookies.get(DEVICE_COOKIE)):
        step = "signin_code"
    elif _needs_enrolment(request, user):
        step = "signin_enrol"
    else:
        return await complete_sign_in(request, user, next_url, db_session, via)
    request.session.clear()
    request.session[PENDING] = {"uid": user.id, "ep": user.session_epoch, "next": next_url, "via": via}
    rotate(request.session)
    return Redirect(url(request, step), status_code=303)


async def pending_user(request: Request, users: UserService) -> tuple[User, dict[str, Any]]:
    pending = request.session.get(PENDING)
    user = await users.get_one_or_none(User.id == pending["uid"]) if isinstance(pending, dict) else None
    if user is None or not user.is_active or user.session_epoch != pending.get("ep"):
        raise Forbidden(_("Your sign-in has expired. Sign in again."))
    return user, pending


class SignInController(Controller):
    include_in_schema = False  # browser pages, not API
    dependencies = {"users": Provide(create_service_provider(UserService)),
                    "two_factor": Provide(create_service_provider(TwoFactorService))}

    def _page(self, request: Request, status: int = 200, **context: Any) -> Template:
        return Template("accounts/signin.html", status_code=status, context={
            "form": {}, "error": None, "next": "", "sso": accounts_settings(request).oidc is not None, **context})

    @get("/signin", name="signin")
    async def signin_page(self, request: Request, next: str | None = None) -> Template:
        return self._page(request, next=safe_next(next, ""), notice=_signin_notice(request))

    @post("/signin", name="signin_submit", status_code=303, middleware=[throttle("signin", 20)])
    async def signin(self, request: Request, data: FormData, users: UserService, db_session: AsyncSession) -> Any:
        email = field(data, "email").strip()[:254]
        next_url = safe_next(field(data, "next"), "")
        try:
            user = await users.authenticate(email, field(data, "password"), client_of(request))
        except DomainError as exc:
            await audit(db_session, "account.signin_failed", actor=None, target_type="email", target_id=email[:64],
                        ip=client_of(request))
            await db_session.commit()  # the failure counts although the answer is an error
            retry = getattr(exc, "retry_after", None)
            page = self._page(request, exc.status_code, form={"email": email}, error=exc.message, next=next_url)
            if retry:
                page.headers["Retry-After"] = str(retry)
            return page
        if not user.email_verified:
            await AccountLifecycleService(session=db_session).send_verification(user)
            await db_session.commit()
            return self._page(request, 403, form={"email": email}, next=next_url, error=_(
                "Confirm your e-mail address first: we have sent you a new link."))
        oidc = accounts_settings(request).oidc
        if oidc is not None and oidc.only_for_staff and user.role.is_privileged:
            return self._page(request, 403, form={"email": email}, next=next_url,
                              error=_("Staff sign in with the national single sign-on."))
        return await after_first_factor(request, user, next_url, db_session, "password")

    @get("/signin/code", name="signin_code")
    async def code_page(self, request: Request, users: UserService) -> Template:
        await pending_user(request, users)
        return Template("accounts/signin_code.html", context={"error": None})

    @post("/signin/code", name="signin_code_submit", status_code=303, middleware=[throttle("signin", 20)])
    async def code(self, request: Request, data: FormData, users: UserService, two_factor: TwoFactorService,
                   db_session: AsyncSession) -> Any:
        user, pending = await pending_user(request, users)
        try:
            used = await two_factor.verify(user, field(data, "code"), client_of(request))
        except DomainError as exc:
            await audit(db_session, "account.second_factor_failed", actor=user, target_type="user",
                        target_id=user.id, ip=client_of(request))
            await db_session.commit()
            return Template("accounts/signin_code.html", status_code=exc.status_code, context={"error": exc.message})
        response = await complete_sign_in(request, user, pending.get("next", ""), db_session,
                                          f"{pending.get('via', 'password')}+{used}")
        if field(data, "remember") == "1":
            settings = request.app.state.settings
            response.set_cookie(DEVICE_COOKIE, device_cookie_value(settings.secret_key, user),
                                max_age=int(REMEMBER_DEVICE.total_seconds()), httponly=True,
                                secure=settings.secure_cookies, samesite="lax")
        return response

    @get("/signin/enrol", name="signin_enrol")
    async def enrol_page(self, request: Request, users: UserService, two_factor: TwoFactorService) -> Template:
        user, _pending = await pending_user(request, users)
        return self._enrol(user, two_factor, None)

    def _enrol(self, user: User, two_factor: TwoFactorService, error: str | None, status: int = 200) -> Template:
        uri = two_factor.provisioning_uri(user)
        return Template("accounts/enrol.html", status_code=status, context={
            "qr": Markup(qr_svg(uri)),  # noqa: S704  (segno draws the SVG from the URI; no user markup)
            "secret": user.totp_secret, "error": error, "action": "signin_enrol_submit"})

    @post("/signin/enrol", name="signin_enrol_submit", status_code=200, middleware=[throttle("signin", 20)])
    async def enrol(self, request: Request, data: FormData, users: UserService, two_factor: TwoFactorService,
                    db_session: AsyncSession) -> Any:
        user, pending = await pending_user(request, users)
        try:
            codes = await two_factor.confirm_enrolment(user, field(data, "code"), client_of(request))
        except DomainError as exc:
            await db_session.commit()  # keep the enrolment secret and the failure count
            return self._enrol(user, two_factor, exc.message, exc.status_code)
        await audit(db_session, "account.two_factor_on", actor=user, target_type="user", target_id=user.id,
                    agency_id=user.agency_id, ip=client_of(request))
        done = await complete_sign_in(request, user, pending.get("next", ""), db_session,
                                      f"{pending.get('via', 'password')}+enrolment")
        return Template("accounts/recovery_codes.html", context={"codes": codes, "continue_to": done.url})

    @post("/signout", name="signout", status_code=303)
    async def signout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(url(request, "home"), status_code=303)

    @get("/signin/sso", name="signin_sso")
    async def sso(self, request: Request, next: str | None = None) -> Redirect:
        auth = await oidc_client(request).authorization_request(url_absolute(request, "signin_sso_callback"))
        request.session[OIDC] = {"state": auth.state, "nonce": auth.nonce, "code_verifier": auth.code_verifier,
                                 "next": safe_next(next, "")}
        return Redirect(auth.url, status_code=303)

    @get("/signin/sso/callback", name="signin_sso_callback")
    async def sso_callback(self, request: Request, db_session: AsyncSession) -> Any:
        expected = request.session.pop(OIDC, None) or {}
        params = {k: str(v)[:2000] for k, v in request.query_params.items()}
        client = oidc_client(request)
        claims = await client.claims(url_absolute(request, "signin_sso_callback"), params, expected)
        user = await SingleSignOnService(session=db_session).account_for(claims, client.settings)
        # The national single sign-on authenticates with its own second factor.
        return await complete_sign_in(request, user, expected.get("next", ""), db_session, "sso")


def url_absolute(request: Request, name: str) -> str:
    """The public address of a page (VOICE_BASE_URL), as the provider must send the person back to it."""
    return request.app.state.settings.base_url.rstrip("/") + url(request, name)


def _signin_notice(request: Request) -> str | None:
    """The sign-in page's line after a verification, a reset or an accepted invitation."""
    params = request.query_params
    if params.get("verified"):
        return _("Your e-mail address is confirmed. Sign in.")
    if params.get("reset"):
        return _("Your new password is set. Sign in with it.")
    if params.get("welcome"):
        return _("Your password is set. Sign in to start.")
    return None
