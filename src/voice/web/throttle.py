"""Per-client limits on sensitive actions (posting, supporting, signing in, looking up tracking
codes), shared across processes: Litestar's rate-limit middleware, one counter per action ("bucket").

The app-wide limit counts every request of a client; these route middlewares count one action each,
keyed by bucket and client in the PostgreSQL-backed "throttle" store, so they hold across processes.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.rate_limit import CacheObject, RateLimitConfig, RateLimitMiddleware
from litestar.types import Send


def client_id(connection: ASGIConnection) -> str:
    """A signed-in person is one client wherever they connect from; anyone else is their address."""
    user = connection.scope.get("user")
    if user is not None:
        return f"u{user.id}"
    client = connection.scope.get("client")
    return f"ip{client[0]}" if client else "ip?"


class _ActionLimit(RateLimitMiddleware):
    """Refusals say when to retry (``Retry-After``); accepted requests carry no extra headers (the
    app-wide limit already describes the client's budget)."""

    def create_response_headers(self, cache_object: CacheObject) -> dict[str, str]:
        return {"Retry-After": str(max(1, cache_object.reset - int(time.time())))}

    def create_send_wrapper(self, send: Send, cache_object: CacheObject) -> Send:
        return send


def _enabled(request: Request) -> bool:
    return bool(request.app.state.settings.rate_limit_enabled)


def throttle(bucket: str, limit: int, unit: str = "minute") -> Any:
    """A route middleware allowing ``limit`` requests per client per ``unit`` for this bucket."""
    return RateLimitConfig(
        rate_limit=(unit, limit),  # type: ignore[arg-type]
        store="throttle",
        identifier_for_request=lambda request: f"{bucket}:{client_id(request)}",
        check_throttle_handler=_enabled,
        middleware_class=_ActionLimit,
    ).middleware
