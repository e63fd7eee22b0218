"""Per-client limits on sensitive actions (posting, supporting, signing in, looking up tracking
codes), shared across processes.

Litestar's rate-limit middleware keys its counter by client only, so one counter would serve every
route; these guards keep one counter per action ("bucket") in the PostgreSQL-backed store.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler


def client_id(connection: ASGIConnection) -> str:
    user = connection.scope.get("user")
    if user is not None:
        return f"u{user.id}"
    client = connection.scope.get("client")
    return f"ip{client[0]}" if client else "ip?"


def throttle(bucket: str, limit: int, window_seconds: int = 60) -> Any:
    """A guard allowing ``limit`` requests per client per window for this bucket."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        settings = connection.app.state.settings
        if not settings.rate_limit_enabled:
            return
        window = int(time.time()) // window_seconds
        key = f"{bucket}:{client_id(connection)}:{window}"
        store = connection.app.stores.get("throttle")
        # get-then-set is not atomic: concurrent requests may each slip one extra request through,
        # an acceptable error for a flood limit.
        count = int(await store.get(key) or 0) + 1
        await store.set(key, str(count).encode(), expires_in=window_seconds * 2)
        if count > limit:
            retry = window_seconds - int(time.time()) % window_seconds
            raise TooManyRequestsException(headers={"Retry-After": str(retry)})

    guard.__name__ = f"throttle_{bucket}"
    return guard
