"""Sign-up, sign-in, sign-out, the account page with API tokens, and /api/v1/me."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SubmitterKind, User
from voice.accounts.services import SignUp, TokenService, UserService, audit
from voice.errors import DomainError
from voice.i18n import get_locale
from voice.web.auth import SESSION_USER_KEY, admin, signed_in
from voice.web.forms import FormData, field, redirect_to, safe_next, url
from voice.web.sessions import rotate
from voice.web.throttle import throttle


def _sign_in(request: Request, user: User) -> None:
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    rotate(request.session)


class AccountController(Controller):
    include_in_schema = False  # browser pages, not API
    dependencies = {
        "users": Provide(create_service_provider(UserService)),
        "tokens": Provide(create_service_provider(TokenService)),
    }

    @get("/signup", name="signup")
    async def signup_page(self) -> Template:
        return Template("accounts/signup.html", context={"form": {}, "errors": {}, "kinds": list(SubmitterKind)})

    @post("/signup", name="signup_submit", status_code=HTTP_303_SEE_OTHER, middleware=[throttle("signup", 10)])
    async def signup(self, request: Request, data: FormData, users: UserService,
                     db_session: AsyncSession) -> Any:
        form = {k: field(data, k) for k in ("email", "full_name", "kind", "cr_number", "organisation")}
        try:
            user = await users.sign_up(SignUp(password=field(data, "password"), locale=get_locale(), **form))
        except DomainError as exc:
            return Template("accounts/signup.html", status_code=exc.status_code,
                            context={"form": form, "errors": exc.errors, "kinds": list(SubmitterKind)})
        await audit(db_session, "account.signup", actor=user, target_type="user", target_id=user.id,
                    ip=request.client.host if request.client else None)
        _sign_in(request, user)
        return Redirect(safe_next(field(data, "next"), url(request, "home")), status_code=HTTP_303_SEE_OTHER)

    @get("/signin", name="signin")
    async def signin_page(self, next: str | None = None) -> Template:
        return Template("accounts/signin.html", context={"form": {}, "error": None, "next": safe_next(next, "")})

    @post("/signin", name="signin_submit", status_code=HTTP_303_SEE_OTHER, middleware=[throttle("signin", 20)])
    async def signin(self, request: Request, data: FormData, users: UserService,
                     db_session: AsyncSession) -> Any:
        email = field(data, "email").strip()
        next_url = safe_next(field(data, "next"), "")
        try:
            user = await users.authenticate(email, field(data, "password"))
        except DomainError as exc:
            await audit(db_session, "account.signin_failed", actor=None, target_type="email",
                        target_id=email[:64], ip=request.client.host if request.client else None)
            # Commit the failure count and audit row although the answer is an error.
            await db_session.commit()
            return Template("accounts/signin.html", status_code=exc.status_code,
                            context={"form": {"email": email}, "error": exc.message, "next": next_url})
        _sign_in(request, user)
        return Redirect(next_url or _home_for(request, user), status_code=HTTP_303_SEE_OTHER)

    @post("/signout", name="signout", status_code=HTTP_303_SEE_OTHER)
    async def signout(self, request: Request) -> Redirect:
        request.clear_session()
        return redirect_to(request, "home")

    @get("/account", guards=[signed_in], name="account")
    async def account(self, request: Request, tokens: TokenService) -> Template:
        user: User = request.user
        mine = await tokens.get_many(tokens.model_type.user_id == user.id, tokens.model_type.revoked_at.is_(None))
        return Template("accounts/account.html", context={"tokens": mine, "new_token": None})

    @post("/account/tokens", name="token_create", guards=[signed_in], status_code=200)
    async def create_token(self, request: Request, data: FormData, tokens: TokenService,
                           db_session: AsyncSession) -> Template:
        user: User = request.user
        token = await tokens.issue(user, field(data, "name").strip() or "API")
        await audit(db_session, "token.issue", actor=user, target_type="user", target_id=user.id)
        mine = await tokens.get_many(tokens.model_type.user_id == user.id, tokens.model_type.revoked_at.is_(None))
        return Template("accounts/account.html", context={"tokens": mine, "new_token": token})


def _home_for(request: Request, user: User) -> str:
    # Each role's workspace becomes its landing page as the workspaces are built.
    return url(request, "home")


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
            "role": user.role.value,
            "kind": user.kind.value,
            "agency": user.agency.slug if user.agency else None,
        }


class AdminController(Controller):
    """Platform administration: who has which role."""

    path = "/admin"
    guards = [admin]
    dependencies = {"users": Provide(create_service_provider(UserService))}

    @get("/", name="admin", include_in_schema=False)
    async def overview(self, users: UserService) -> Template:
        people = await users.get_many(order_by=[("role", False), ("email", False)])
        return Template("accounts/admin.html", context={"people": people})
