"""Choose the language of each request: ?lang= (remembered in a cookie), the cookie, then Arabic.

API clients may also ask with Accept-Language; browsers get Arabic unless they chose English,
because Arabic is the platform's first language whatever the browser's settings say.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from voice import i18n
from voice.web.auth import is_api_path

COOKIE = "lang"


def resolve(scope: Scope, query_lang: str | None, cookie_lang: str | None, accept: str | None) -> str:
    chosen = i18n.normalize_lang(query_lang) or i18n.normalize_lang(cookie_lang)
    if chosen is None and is_api_path(scope["path"]):
        chosen = i18n.from_accept_language(accept)
    return chosen or i18n.DEFAULT


def locale_for(scope: Scope) -> tuple[str, str | None, str | None]:
    """(language, language asked for in the query, language in the cookie) of a request."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    query_lang = i18n.normalize_lang((query.get("lang") or [None])[0])
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    cookie_lang = _cookies(headers.get("cookie", "")).get(COOKIE)
    lang = resolve(scope, query_lang, cookie_lang, headers.get("accept-language"))
    scope.setdefault("state", {})["lang"] = lang
    return lang, query_lang, cookie_lang


def apply_locale(scope: Scope) -> str:
    """Set the request's language where no route middleware ran (e.g. a 404 for an unknown path)."""
    lang = locale_for(scope)[0]
    i18n.set_locale(lang)
    return lang


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang, query_lang, cookie_lang = locale_for(scope)
        i18n.set_locale(lang)
        remember = query_lang is not None and query_lang != cookie_lang

        async def send_with_cookie(message: Message) -> None:
            if remember and message["type"] == "http.response.start":
                cookie = Cookie(key=COOKIE, value=lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
                MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("Content-Language", lang)
            await send(message)

        # Not reset afterwards on purpose: Litestar renders error pages in its outermost exception
        # middleware, after this one has returned, and they must still be in the request's language.
        # Each request runs in its own task (its own context), so nothing leaks between requests.
        await self.app(scope, receive, send_with_cookie)


def _cookies(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out[name] = value
    return out
