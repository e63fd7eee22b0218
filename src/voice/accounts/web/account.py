"""A person's own account: profile (legal and display name), password, two-factor sign-in, API tokens,
and /api/v1/me."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.accounts.security import verify_password
from voice.accounts.services import (
    TokenService,
    UserService,
    audit,
    clean_display_name,
    clean_full_name,
)
from voice.accounts.twofactor import TwoFactorService, qr_svg
from voice.accounts.web.signin import accounts_settings, client_of
from voice.errors import DomainError, Forbidden, ValidationFailed
from voice.i18n import _
from voice.web.auth import SESSION_EPOCH_KEY, signed_in
from voice.web.forms import FormData, field, redirect_to


async def _me(request: Request, db_session: AsyncSession) -> User:
    """The signed-in person as a row of this request's transaction (``request.user`` was loaded by the
    authentication middleware in a session of its own, so changes to it would not be saved)."""
    user = await db_session.get(User, request.user.id)
    if user is None:
        raise Forbidden(_("Your sign-in has expired. Sign in again."))
    return user


_SERVICES = {"users": Provide(create_service_provider(UserService)),
             "tokens": Provide(create_service_provider(TokenService)),
             "two_factor": Provide(create_service_provider(TwoFactorService))}


class AccountController(Controller):
    path = "/account"
    guards = [signed_in]
    include_in_schema = False
    dependencies = _SERVICES

    async def _page(self, request: Request, tokens: TokenService, two_factor: TwoFactorService,
                    status: int = 200, **context: Any) -> Template:
        user: User = request.user
        return Template("accounts/account.html", status_code=status, context={
            "tokens": await tokens.mine(user), "new_token": None, "form": {}, "errors": {}, "notice": None,
            "codes_left": await two_factor.recovery_codes_left(user) if user.has_two_factor else 0,
            "two_factor_required": user.role.is_privileged and accounts_settings(request).two_factor_required,
            **context})

    @get("/", name="account")
    async def account(self, request: Request, tokens: TokenService, two_factor: TwoFactorService,
                      saved: str | None = None) -> Template:
        return await self._page(request, tokens, two_factor, notice=_("Saved.") if saved else None)

    @post("/profile", name="profile_save", status_code=303)
    async def profile(self, request: Request, data: FormData, tokens: TokenService, two_factor: TwoFactorService,
                      db_session: AsyncSession) -> Any:
        user = await _me(request, db_session)
        form = {k: field(data, k) for k in ("full_name", "display_name", "locale")}
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for key, check in (("full_name", clean_full_name), ("display_name", clean_display_name)):
            try:
                values[key] = check(form[key])
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if errors:
            return await self._page(request, tokens, two_factor, 422, form=form, errors=errors)
        user.full_name, user.display_name = values["full_name"], values["display_name"]
        user.locale = form["locale"] if form["locale"] in ("ar", "en") else user.locale
        await audit(db_session, "account.profile", actor=user, target_type="user", target_id=user.id)
        return redirect_to(request, "account", query={"saved": 1})

    @post("/password", name="password_change", status_code=303)
    async def password(self, request: Request, data: FormData, users: UserService, tokens: TokenService,
                       two_factor: TwoFactorService, db_session: AsyncSession) -> Any:
        user = await _me(request, db_session)
        try:
            if not verify_password(user.password_hash, field(data, "current_password")):
                raise ValidationFailed(_("Your current password is not correct."), field="current_password")
            await users.set_password(user, field(data, "new_password"))
        except ValidationFailed as exc:
            errors = {("new_password" if k == "password" else k): v for k, v in exc.errors.items()}
            return await self._page(request, tokens, two_factor, 422, errors=errors)
        # Every other session ends; this one carries the new epoch.
        request.session[SESSION_EPOCH_KEY] = user.session_epoch
        await audit(db_session, "account.password_change", actor=user, target_type="user", target_id=user.id)
        return redirect_to(request, "account", query={"saved": 1})

    @post("/tokens", name="token_create", status_code=200)
    async def create_token(self, request: Request, data: FormData, tokens: TokenService,
                           two_factor: TwoFactorService, db_session: AsyncSession) -> Template:
        user: User = request.user
        token = await tokens.issue(user, field(data, "name").strip() or "API")
        await audit(db_session, "token.issue", actor=user, target_type="user", target_id=user.id)
        return await self._page(request, tokens, two_factor, new_token=token)

    @get("/two-factor", name="two_factor")
    async def two_factor_page(self, request: Request, two_factor: TwoFactorService, db_session: AsyncSession) -> Any:
        user = await _me(request, db_session)
        if user.has_two_factor:
            return redirect_to(request, "account")
        uri = two_factor.provisioning_uri(user)  # keeps a new secret until the code confirms it
        await db_session.commit()
        return Template("accounts/enrol.html", context={
            "qr": Markup(qr_svg(uri)),  # noqa: S704  (segno's SVG of the URI; no user markup)
            "secret": user.totp_secret, "error": None, "action": "two_factor_enrol"})

    @post("/two-factor", name="two_factor_enrol", status_code=200)
    async def enrol(self, request: Request, data: FormData, two_factor: TwoFactorService,
                    db_session: AsyncSession) -> Template:
        user = await _me(request, db_session)
        try:
            codes = await two_factor.confirm_enrolment(user, field(data, "code"), client_of(request))
        except DomainError as exc:
            await db_session.commit()
            return Template("accounts/enrol.html", status_code=exc.status_code, context={
                "qr": Markup(qr_svg(two_factor.provisioning_uri(user))),  # noqa: S704
                "secret": user.totp_secret, "error": exc.message, "action": "two_factor_enrol"})
        await audit(db_session, "account.two_factor_on", actor=user, target_type="user", target_id=user.id)
        return Template("accounts/recovery_codes.html", context={"codes": codes, "continue_to": "/account"})

    @post("/two-factor/codes", name="recovery_codes_new", status_code=200)
    async def new_codes(self, request: Request, two_factor: TwoFactorService, db_session: AsyncSession) -> Template:
        user = await _me(request, db_session)
        if not user.has_two_factor:
            raise Forbidden(_("Turn on two-factor sign-in first."))
        codes = await two_factor.replace_recovery_codes(user)
        await audit(db_session, "account.recovery_codes", actor=user, target_type="user", target_id=user.id)
        return Template("accounts/recovery_codes.html", context={"codes": codes, "continue_to": "/account"})

    @post("/two-factor/off", name="two_factor_off", status_code=303)
    async def off(self, request: Request, two_factor: TwoFactorService, db_session: AsyncSession) -> Redirect:
        user = await _me(request, db_session)
        if user.role.is_privileged and accounts_settings(request).two_factor_required:
            raise Forbidden(_("Your role requires two-factor sign-in."))
        await two_factor.turn_off(user)
        request.session[SESSION_EPOCH_KEY] = user.session_epoch
        await audit(db_session, "account.two_factor_off", actor=user, target_type="user", target_id=user.id)
        return redirect_to(request, "account", query={"saved": 1})


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]

    @get("/", guards=[signed_in], summary="The account behind the Bearer token")
    async def me(self, request: Request) -> dict[str, Any]:
        user: User = request.user
        return {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "display_name": user.display_name,
            "role": user.role.value,
            "kind": user.kind.value,
            "agency": user.agency.slug if user.agency else None,
        }
