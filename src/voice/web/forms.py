"""Small helpers for HTML form handlers: reading fields and safe redirects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

# A urlencoded form body as a plain dict; handlers validate it through domain services so that
# errors come back in the user's language on the page, not as Litestar's JSON 400.
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

MAX_FIELD = 20_000


def field(form: dict[str, Any], name: str, default: str = "") -> str:
    value = form.get(name, default)
    if isinstance(value, list):  # a repeated field: keep the last, as browsers intend
        value = value[-1] if value else default
    return str(value)[:MAX_FIELD] if value is not None else default


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: '/x' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def is_htmx(request: Any) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return bool(request.headers.get("hx-request"))


def url(request: Any, name: str, *, query: dict[str, Any] | None = None, anchor: str = "", **params: Any) -> str:
    """The path of the route called ``name`` (routes are named; paths are never written twice)."""
    path = request.app.route_reverse(name, **params)
    if query:
        path += "?" + urlencode({k: v for k, v in query.items() if v is not None})
    return path + (f"#{anchor}" if anchor else "")


def redirect_to(request: Any, name: str, *, query: dict[str, Any] | None = None, anchor: str = "",
                **params: Any) -> Redirect:
    """A 303 to a named route: what a form POST answers (post/redirect/get)."""
    return Redirect(url(request, name, query=query, anchor=anchor, **params), status_code=303)
