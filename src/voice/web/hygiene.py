"""Input hygiene in one place: every request's path, query string and body are checked before any handler
runs, so no handler has to remember to.

Refused with a clear 400 in the visitor's language (a page for pages, problem+json for the API, the
standard's error list for Open311), before anything is read from or written to the database:

- bytes that are not UTF-8, percent-encoded or not (they used to be stored as mojibake);
- characters PostgreSQL cannot store or that have no place in text: NUL and the other C0 controls but
  tab and line breaks, DEL, lone surrogates (``"\\ud800"`` in JSON), and the direction overrides and
  isolates of the "Trojan Source" trick (U+202A-U+202E, U+2066-U+2069) in every field, not only in bodies;
- a form field sent twice where one value is expected (it used to be stored as ``"['a', 'b']"``);
- JSON nested deeper than ``MAX_DEPTH`` (the decoder used to exhaust the stack: a 500), larger than
  ``MAX_JSON``, or not JSON at all;
- a body whose content type is not the one the route reads (415): ``text/plain`` at a JSON route, JSON at
  a form route.

Path parameters are read after routing (Litestar runs this middleware for the matched route).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.types import ASGIApp, Receive, Scope, Send

from voice.errors import DomainError
from voice.i18n import _

# C0 controls but \t \n \r, DEL, lone surrogates, bidi overrides and isolates.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
MAX_DEPTH = 32
MAX_JSON = 256 * 1024
# Form fields that carry several values (checkbox lists); any other field must come once.
MULTI_VALUED = frozenset({"themes", "feedback", "audience"})  # audience: who a consultation asks
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_BRACKETS_ONLY = bytes(range(256)).translate(None, b"[]{}")
_INNERMOST = re.compile(rb"[\[{][\]}]")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class BadInput(DomainError):
    """A request refused before any handler ran."""

    status_code = 400


class UnsupportedMediaType(DomainError):
    status_code = 415


class TooLarge(DomainError):
    status_code = 413


def check_text(value: str, field: str) -> None:
    """Refuse a text with a character that has no place in it (see the module's docstring)."""
    hit = FORBIDDEN.search(value)
    if hit is None:
        return
    if _BIDI.match(hit.group()):
        raise BadInput(_("The text contains hidden direction-override characters. Please retype it."), field=field)
    raise BadInput(_("The text contains control characters that are not allowed."), field=field)


def _decode(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(_("The request body is not valid UTF-8 text."), field=field) from None


def url_pairs(raw: bytes) -> Iterator[tuple[str, str]]:
    """``name=value`` pairs of a query string or a urlencoded body, decoded as strict UTF-8 and checked."""
    for part in raw.split(b"&"):
        if not part:
            continue
        name_raw, _sep, value_raw = part.partition(b"=")
        name = _decode(unquote_to_bytes(name_raw.replace(b"+", b" ")), "query")
        check_text(name, name[:64] or "query")
        value = _decode(unquote_to_bytes(value_raw.replace(b"+", b" ")), name[:64])
        check_text(value, name[:64])
        yield name, value


def json_depth_ok(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether no array or object in ``body`` is nested deeper than ``limit``, without recursion: strings
    removed, only brackets kept, then innermost pairs peeled ``limit`` times (each pass in C)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _BRACKETS_ONLY)
    for _pass in range(limit):
        if not brackets:
            return True
        brackets = _INNERMOST.sub(b"", brackets)
    return not brackets


def check_json(body: bytes) -> None:
    if len(body) > MAX_JSON:
        raise TooLarge(_("The request is too large."))
    if not json_depth_ok(body):
        raise BadInput(_("The JSON document is nested too deeply."))
    _decode(body, "body")
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        raise BadInput(_("The request body is not valid JSON.")) from None
    _walk(document, "body")


def _walk(value: Any, where: str) -> None:
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            _walk(item, str(key)[:64])
    elif isinstance(value, list):
        for item in value:
            _walk(item, where)


def check_fields(pairs: Iterable[tuple[str, str]]) -> None:
    """A form's fields: every name and value checked as text, and each field (but the lists) sent once."""
    seen: set[str] = set()
    for name, value in pairs:
        check_text(name, name[:64])
        check_text(value, name[:64])
        if name in seen and name not in MULTI_VALUED:
            raise BadInput(_("The field %(name)s was sent more than once.", name=name[:64]), field=name[:64])
        seen.add(name)


def _expected_media_type(scope: Scope) -> str | None:
    """What the route's handler reads its ``data`` as: "json", "form", "multipart", or None (no body)."""
    handler = scope.get("route_handler")
    parameter = getattr(getattr(handler, "parsed_fn_signature", None), "parameters", {}).get("data")
    if parameter is None:
        return None
    media_type = getattr(parameter.kwarg_definition, "media_type", None)
    if media_type == RequestEncodingType.URL_ENCODED:
        return "form"
    if media_type == RequestEncodingType.MULTI_PART:
        return "multipart"
    return "json"


def _kind(content_type: str) -> str:
    if content_type == "application/x-www-form-urlencoded":
        return "form"
    if content_type == "multipart/form-data":
        return "multipart"
    if _JSON_TYPES.match(content_type):
        return "json"
    return content_type or "none"


class InputHygieneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.check(scope, receive)
        await self.app(scope, receive, send)

    async def check(self, scope: Scope, receive: Receive) -> None:
        raw_path = scope.get("raw_path") or b""
        _decode(unquote_to_bytes(raw_path), "path")
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, str):
                check_text(value, name)
        for _pair in url_pairs(scope.get("query_string") or b""):
            pass
        if scope.get("method") not in _BODY_METHODS:
            return
        request: Request = Request(scope, receive)
        content_type = request.content_type[0].lower()
        kind = _kind(content_type)
        expected = _expected_media_type(scope)
        has_body = (request.headers.get("content-length", "0") not in ("", "0")
                    or "transfer-encoding" in request.headers)
        # A multipart route also reads a urlencoded form (a form without files, as tests and scripts send).
        accepted = {expected, "form"} if expected == "multipart" else {expected}
        if expected is not None and has_body and kind not in accepted:
            raise UnsupportedMediaType(_("This content type is not supported. Send %(type)s.", type={
                "json": "application/json", "form": "application/x-www-form-urlencoded",
                "multipart": "multipart/form-data"}[expected]))
        if kind not in ("json", "form", "multipart") or not has_body:
            return
        if kind == "multipart":
            # Parsed once (strict UTF-8: a part that is not raises the usual 400) and kept on the request
            # for the handler; files are not text and are checked by the attachments service.
            check_fields((name, value) for name, value in (await request.form()).multi_items()
                         if isinstance(value, str))
            return
        body = await request.body()  # kept on the request: the handler reads it from there
        if kind == "json":
            check_json(body)
        else:
            check_fields(url_pairs(body))
