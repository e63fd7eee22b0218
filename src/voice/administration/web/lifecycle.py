"""Pages of the account life-cycle: sign-up, e-mail verification, forgotten password, password reset,
and accepting an invitation. Links carry their token in the query string (request logs keep only the
path)."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from voice.accounts.models import SubmitterKind, TokenPurpose
from voice.accounts.services import SignUp
from voice.accounts.web.signin import accounts_settings, client_of
from voice.administration.lifecycle import AccountLifecycleService
from voice.errors import DomainError
from voice.i18n import get_locale
from voice.web.forms import FormData, field, redirect_to
from voice.web.throttle import throttle

_SIGNUP_FIELDS = ("email", "full_name", "display_name", "kind", "cr_number", "organisation")


class LifecyclePages(Controller):
    include_in_schema = False
    dependencies = {"lifecycle": Provide(create_service_provider(AccountLifecycleService))}

    @get("/signup", name="signup")
    async def signup_page(self) -> Template:
        return Template("accounts/signup.html", context={"form": {}, "errors": {}, "kinds": list(SubmitterKind)})

    @post("/signup", name="signup_submit", status_code=303, middleware=[throttle("signup", 10)])
    async def signup(self, request: Request, data: FormData, lifecycle: AccountLifecycleService) -> Any:
        form = {k: field(data, k) for k in _SIGNUP_FIELDS}
        try:
            await lifecycle.sign_up(SignUp(password=field(data, "password"), locale=get_locale(), **form),
                                    ip=client_of(request))
        except DomainError as exc:
            return Template("accounts/signup.html", status_code=exc.status_code,
                            context={"form": form, "errors": exc.errors, "kinds": list(SubmitterKind)})
        return redirect_to(request, "check_email", query={"for": "signup"})

    @get("/check-email", name="check_email")
    async def check_email(self, request: Request) -> Template:
        reason = request.query_params.get("for", "")
        return Template("accounts/check_email.html", context={"reason": reason if reason in ("signup", "reset") else ""})

    @get("/verify", name="verify_email")
    async def verify(self, request: Request, lifecycle: AccountLifecycleService, token: str = "") -> Any:
        try:
            await lifecycle.verify_email(token[:200])
        except DomainError as exc:
            return Template("accounts/link_refused.html", status_code=exc.status_code, context={"message": exc.message})
        return Redirect("/signin?verified=1", status_code=303)

    @get("/password/forgot", name="password_forgot")
    async def forgot_page(self) -> Template:
        return Template("accounts/forgot.html", context={"form": {}})

    @post("/password/forgot", name="password_forgot_submit", status_code=303,
          middleware=[throttle("password_reset", 5)])
    async def forgot(self, request: Request, data: FormData, lifecycle: AccountLifecycleService) -> Redirect:
        await lifecycle.request_password_reset(field(data, "email")[:254], ip=client_of(request))
        return redirect_to(request, "check_email", query={"for": "reset"})

    @get("/password/reset", name="password_reset")
    async def reset_page(self, lifecycle: AccountLifecycleService, token: str = "") -> Template:
        try:
            await lifecycle.check_link(token[:200], TokenPurpose.PASSWORD_RESET)
        except DomainError as exc:
            return Template("accounts/link_refused.html", status_code=exc.status_code, context={"message": exc.message})
        return Template("accounts/set_password.html", context={
            "token": token, "errors": {}, "action": "password_reset_submit", "invitation": False})

    @post("/password/reset", name="password_reset_submit", status_code=303, middleware=[throttle("password_reset", 10)])
    async def reset(self, request: Request, data: FormData, lifecycle: AccountLifecycleService) -> Any:
        token = field(data, "token")[:200]
        try:
            await lifecycle.reset_password(token, field(data, "password"), ip=client_of(request))
        except DomainError as exc:
            if "token" in exc.errors:
                return Template("accounts/link_refused.html", status_code=exc.status_code,
                                context={"message": exc.message})
            return Template("accounts/set_password.html", status_code=exc.status_code, context={
                "token": token, "errors": exc.errors, "action": "password_reset_submit", "invitation": False})
        return Redirect("/signin?reset=1", status_code=303)

    @get("/invitation", name="invitation")
    async def invitation_page(self, request: Request, lifecycle: AccountLifecycleService, token: str = "") -> Template:
        try:
            user = await lifecycle.check_link(token[:200], TokenPurpose.INVITATION)
        except DomainError as exc:
            return Template("accounts/link_refused.html", status_code=exc.status_code, context={"message": exc.message})
        return Template("accounts/set_password.html", context={
            "token": token, "errors": {}, "action": "invitation_submit", "invitation": True, "person": user,
            "sso": accounts_settings(request).oidc is not None})

    @post("/invitation", name="invitation_submit", status_code=303, middleware=[throttle("password_reset", 10)])
    async def accept(self, request: Request, data: FormData, lifecycle: AccountLifecycleService) -> Any:
        token = field(data, "token")[:200]
        try:
            await lifecycle.accept_invitation(token, field(data, "password"), field(data, "display_name"),
                                              ip=client_of(request))
        except DomainError as exc:
            if "token" in exc.errors:
                return Template("accounts/link_refused.html", status_code=exc.status_code,
                                context={"message": exc.message})
            return Template("accounts/set_password.html", status_code=exc.status_code, context={
                "token": token, "errors": exc.errors, "action": "invitation_submit", "invitation": True,
                "sso": accounts_settings(request).oidc is not None})
        return Redirect("/signin?welcome=1", status_code=303)

