"""Who is asking: a signed-in browser (session) or an API client (Bearer token); and role guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select

from voice.accounts.models import Role, User
from voice.accounts.services import TokenService

SESSION_USER_KEY = "uid"
# The account's session epoch when the session was made: a password reset or a deactivation raises the
# account's epoch, which ends every older session.
SESSION_EPOCH_KEY = "ep"
API_PREFIXES = ("/api/", "/open311/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Resolves ``request.user`` (None for anonymous visitors); never refuses by itself.

    API paths accept only Bearer tokens and ignore the session cookie: they are exempt from CSRF
    (clients are not browsers), so honouring cookies there would reopen cross-site request forgery.
    """

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        db_config = connection.app.state.db_config
        header = connection.headers.get("authorization", "")
        api = is_api_path(connection.scope["path"])
        user: User | None = None
        auth: str | None = None
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            async with db_config.get_session() as session:
                user = await TokenService(session=session).user_for(token)
                await session.commit()
            if user is None:
                raise NotAuthorizedException(detail="invalid token")
            auth = "token"
        elif not api:
            session_data = connection.scope.get("session") or {}
            uid = session_data.get(SESSION_USER_KEY)
            if isinstance(uid, int):
                async with db_config.get_session() as session:
                    user = await session.scalar(select(User).where(
                        User.id == uid, User.is_active.is_(True),
                        User.session_epoch == int(session_data.get(SESSION_EPOCH_KEY) or 0)))
                if user is None:
                    connection.scope["session"].clear()
                else:
                    auth = "session"
        return AuthenticationResult(user=user, auth=auth)


def current_user(connection: ASGIConnection) -> User | None:
    return connection.scope.get("user")


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException()


def requires_role(*roles: Role) -> Any:
    """A guard that admits the given roles (and platform admins, who can do everything)."""
    allowed = set(roles) | {Role.ADMIN}

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if user.role not in allowed:
            raise PermissionDeniedException()

    guard.__name__ = "requires_" + "_or_".join(r.value for r in roles)
    return guard


agency_member = requires_role(Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
agency_admin = requires_role(Role.AGENCY_ADMIN)
judge = requires_role(Role.JUDGE)
admin = requires_role(Role.ADMIN)
