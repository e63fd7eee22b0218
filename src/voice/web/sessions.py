"""Server-side sessions in PostgreSQL that stay out of the way of anonymous visitors.

Litestar's stock backend writes the session on every response, so every anonymous page view would
cost a database write and hand out a cookie. This backend writes only when the data changed, sets
no cookie for an empty session, and issues a new session id at sign-in (session fixation).
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

ROTATE = "_rotate"
_LOADED = "voice_session_loaded"


def rotate(session: dict[str, Any]) -> None:
    """Mark the session so the response carries a fresh session id (call at sign-in)."""
    session[ROTATE] = True


class SessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: Any) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[_LOADED] = dict(data)
        return data

    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        cookie = connection.cookies.get(self.config.key)
        had_cookie = cookie not in (None, "", "null")
        empty = scope_session is Empty or not scope_session
        if empty:
            if had_cookie:  # signed out: forget the session and tell the browser to drop the cookie now
                await self.delete(cookie, store=self.config.get_store_from_app(connection.scope["app"]))
                params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
                params["max_age"] = 0
                MutableScopeHeaders.from_message(message).add(
                    "Set-Cookie", Cookie(value="", key=self.config.key, expires=0, **params).to_header(header=""))
            return
        fresh_id = bool(scope_session.pop(ROTATE, False))
        loaded = connection.scope.get("state", {}).get(_LOADED)
        if not fresh_id and had_cookie and scope_session == loaded:
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        if fresh_id and had_cookie:
            await self.delete(cookie, store=store)
        session_id = self.generate_session_id() if (fresh_id or not had_cookie) else cookie
        await self.set(session_id, self.serialize_data(scope_session, connection.scope), store=store)
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **params).to_header(header="")
        )


class SessionConfig(ServerSideSessionConfig):
    _backend_class = SessionBackend
