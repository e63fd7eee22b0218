"""The error answers of the published OpenAPI description, declared once for every operation.

Agencies' integrators generate clients from ``/schema/openapi.json``, so the description must list every
answer an operation can give, with the body and content type really sent: RFC 9457 problem details
(``application/problem+json``, ``voice.web.errors.problem``), or, where an operation already declares its
own error shape (Open311's list of ``{code, description}``), that shape for every error status.

Which statuses an operation can answer follows from what runs before and around its handler:

- 400: the input-hygiene layer (``voice.web.hygiene``) and parameter validation, on every operation;
- 401: an API request with an unknown, revoked or expired Bearer token, on every API operation;
- 403, 404: role guards and agency scoping (guarded operations), unknown ids or references (operations
  with parameters: an Open311 service code that does not exist is a 404);
- 409, 422: refused writes and values (``voice.web.errors.refused_by_database``, domain rules);
- 413, 415: request bodies above the size limit or of another content type;
- 429, 503: the rate limit, and PostgreSQL unreachable.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

PROBLEM_MEDIA_TYPE = "application/problem+json"
_API_PREFIXES = ("/api/", "/open311/")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Handler arguments that are not parameters of the request.
_NOT_PARAMS = frozenset({"request", "state", "scope", "headers", "cookies", "socket", "self"})
_DESCRIPTIONS = {
    400: "The request could not be understood (malformed, or characters that have no place in text).",
    401: "The Bearer token is not valid.",
    403: "The caller may not do this.",
    404: "Not found (or not visible to the caller).",
    409: "Conflicts with the current state of the record.",
    413: "The request body is too large.",
    415: "The request body's content type is not the one this operation reads.",
    422: "Some of the information is not valid.",
    429: "Too many requests; retry after the Retry-After header's delay.",
    503: "The service is temporarily unavailable; retry after the Retry-After header's delay.",
}


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, in the language of the request."""

    type: str
    title: str
    status: int
    detail: str | None = None
    # Field name → what is wrong with it.
    errors: dict[str, str] | None = None


def error_statuses(method: str, path: str, has_path_params: bool, guarded: bool, has_params: bool,
                   own_error_shape: bool) -> list[int]:
    statuses = [400, 429, 503]
    if path.startswith(_API_PREFIXES):
        statuses.append(401)
    if guarded:
        statuses += [403, 404]
    elif has_path_params or has_params:  # an unknown id, or a parameter naming something that does not exist
        statuses.append(404)
    # An operation with an error shape of its own (Open311) answers invalid values with 400.
    if (has_params or method in _WRITES) and not own_error_shape:
        statuses.append(422)
    if method in _WRITES:
        statuses += [409, 413, 415]
    return sorted(set(statuses))


def document_errors(app: Litestar) -> None:
    """Give every operation in the description the error answers it can send (see the module's docstring).
    Statuses an operation declares itself keep their declaration."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            declared: dict[int, Any] = dict(handler.responses or {})
            template = declared.get(400)
            container = template.data_container if template else Problem
            media_type = template.media_type if template else PROBLEM_MEDIA_TYPE
            method = next(iter(sorted(handler.http_methods)))
            parameters = set(handler.parsed_fn_signature.parameters) - set(handler.resolve_dependencies()) - _NOT_PARAMS
            for status in error_statuses(method, route.path, bool(route.path_parameters),
                                         bool(handler.resolve_guards()), bool(parameters), template is not None):
                declared.setdefault(status, ResponseSpec(data_container=container, media_type=media_type,
                                                         description=_DESCRIPTIONS[status],
                                                         generate_examples=False))
            handler.responses = declared


def exact_allow_headers(app: Litestar) -> None:
    """OPTIONS answers list exactly the methods of their address.

    Litestar makes the automatic OPTIONS handler when it first sees an address and lets it read that first
    route's methods; when more handlers for the same address join later (a controller's GET and POST, a
    catch-all), the address gets a new route but the handler kept reading the old one, so OPTIONS on
    ``/api/v1/ideas`` advertised GET only and Open311's addresses advertised methods that only refused. Each
    automatic handler is pointed at its final route."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler, "fn", None)
            if handler.handler_name != "options_handler" or not getattr(fn, "__closure__", None):
                continue
            for cell in fn.__closure__:  # type: ignore[union-attr]
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
