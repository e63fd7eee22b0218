"""One transaction per request, committed before the answer leaves; a commit that fails answers 503.

advanced-alchemy's "autocommit" hook commits when the response starts, but logs a failed commit at
debug level and lets the success answer go out: a citizen could be told "saved" for something that
was rolled back (PostgreSQL restarting, a deferred constraint, a serialization failure). This hook
commits at the same moment and, if the commit fails, turns the answer into a 503 in the visitor's
language (the body the handler rendered is dropped), so a client knows to retry. It also skips the
commit for a request that never opened a transaction (the feedback intake, most reads).
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any

from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import (
    SESSION_SCOPE_KEY,
    SESSION_TERMINUS_ASGI_EVENTS,
)
from litestar.constants import HTTP_RESPONSE_START
from litestar.types import BeforeMessageSendHookHandler, Message, Scope
from sqlalchemy.exc import DataError, IntegrityError

from voice.i18n import _, direction, get_locale
from voice.web.auth import is_api_path

log = logging.getLogger("voice.errors")

_FAILED = "voice_commit_failed"
# The rendered answer's own description of its body goes with the body.
_BODY_HEADERS = {b"content-type", b"content-length", b"content-encoding", b"location", b"set-cookie", b"etag",
                 b"hx-redirect", b"hx-location", b"vary"}


def commit_before_answer(session_scope_key: str = SESSION_SCOPE_KEY) -> BeforeMessageSendHookHandler:
    """The before_send hook for a config's sessions: commit on 2xx/3xx, roll back otherwise, close.

    advanced-alchemy gives every config in a process its own scope key (``config.session_scope_key``).
    """

    async def hook(message: Message, scope: Scope) -> None:
        replacement: bytes | None = scope.get("state", {}).get(_FAILED)
        if replacement is not None and message["type"] == "http.response.body":
            message["body"], message["more_body"] = replacement, False
            scope["state"][_FAILED] = b""  # any later body chunk is dropped
            return
        session = get_aa_scope_state(scope, session_scope_key)
        if session is None:
            return
        try:
            if message["type"] == HTTP_RESPONSE_START and session.in_transaction():
                if 200 <= message["status"] < 400:
                    try:
                        await session.commit()
                    except (IntegrityError, DataError) as exc:
                        # A constraint or a value PostgreSQL refused when the changes were flushed: the
                        # client's request, not the service, is at fault (409/422, as voice.web.errors).
                        log.warning("commit refused on %s %s: %s", scope.get("method"), scope.get("path"),
                                    getattr(exc, "orig", exc))
                        status = 409 if isinstance(exc, IntegrityError) else 422
                        _answer_instead(message, scope, status, _refusal(status))
                    except Exception:
                        log.exception("commit failed on %s %s; answering 503", scope.get("method"), scope.get("path"))
                        _answer_instead(message, scope, 503, _(
                            "The service is temporarily unavailable. Please try again shortly."))
                else:
                    await session.rollback()
        finally:
            if message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
                try:
                    await session.close()
                except Exception:  # the connection is gone; the pool replaces it
                    log.warning("closing the request's database session failed", exc_info=True)
                delete_aa_scope_state(scope, session_scope_key)

    return hook


def _refusal(status: int) -> str:
    if status == 409:
        return _("This conflicts with the current state of the record.")
    return _("Some of the information is not valid.")


def _answer_instead(message: Message, scope: Scope, status: int, title: str) -> None:
    """Rewrite the response start in place (a 503, or the 409/422 of a refused write); the body follows
    in the next message."""
    if is_api_path(scope.get("path", "")):
        content_type = b"application/problem+json"
        body = json.dumps({"type": "about:blank", "title": title, "status": status}, ensure_ascii=False).encode()
    else:
        content_type = b"text/html; charset=utf-8"
        lang = get_locale()
        body = (f'<!doctype html><html lang="{lang}" dir="{direction(lang)}"><meta charset="utf-8">'
                f"<title>{html.escape(title)}</title><p>{html.escape(title)}</p></html>").encode()
    headers: list[Any] = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _BODY_HEADERS]
    headers += [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store")]
    if status == 503:
        headers.append((b"retry-after", b"5"))
    message["status"], message["headers"] = status, headers
    scope.setdefault("state", {})[_FAILED] = body
