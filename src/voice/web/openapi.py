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

Authentication: API clients send an API token (``voice user create --token``, or an account's page) as
``Authorization: Bearer <token>``; the description declares that scheme (``BEARER``) and, per operation,
whether the token is required (guarded operations: without one they answer 401) or optional (public
operations, where a token shows what its account may see besides). Pages and ``/health`` take none.

Requests: what the description calls valid is what the API accepts. Every string states the characters the
hygiene layer refuses (``TEXT_PATTERN``); each request field states its service's rules (``documented``,
built from the service's own enums and constants); rules JSON Schema cannot state are written, field by
field, in the operation's 422 (``refusals``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, OpenAPI, Schema, SecurityRequirement, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from voice.web.hygiene import FORBIDDEN

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


# The one security scheme: an API token in the Authorization header (voice.web.auth.AuthMiddleware).
BEARER = "apiToken"
TOKEN_REQUIRED: list[SecurityRequirement] = [{BEARER: []}]
TOKEN_OPTIONAL: list[SecurityRequirement] = [{BEARER: []}, {}]  # {}: anonymous requests are answered too


def security_components() -> Components:
    """The description's ``components.securitySchemes``."""
    return Components(security_schemes={BEARER: SecurityScheme(
        type="http", scheme="bearer", bearer_format="voice_…",
        description="An API token of a Voice account (issued once, on the account's page or with `voice user "
                    "create --token`), sent as `Authorization: Bearer <token>`. It acts with its account's "
                    "role and agency; an unknown, revoked or expired token is answered 401.")})


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, in the language of the request."""

    type: str
    title: str
    status: int
    detail: str | None = None
    # Field name → what is wrong with it.
    errors: dict[str, str] | None = None


def documented(**schema: Any) -> msgspec.Meta:
    """A rule a domain service enforces (with its own localized message), stated on a request field of the
    published description; the keywords are attributes of Litestar's ``Schema`` (``enum``, ``format``,
    ``pattern``, ``min_length``, ``minimum``, ``any_of``, ``properties``…). Build them from the constants and
    enums the service checks against, so that the rule is written once."""
    return msgspec.Meta(extra_json_schema={"extra": schema})


def one_of(values: Iterable[str]) -> msgspec.Meta:
    """The closed set a service accepts (a domain enum, or a tuple of its words)."""
    return documented(enum=[str(value) for value in values])


def whole(pattern: re.Pattern[str]) -> str:
    """A pattern the service applies with ``fullmatch``, anchored as JSON Schema needs it."""
    return f"^(?:{pattern.pattern})$"


def refusals(reasons: str) -> dict[int, ResponseSpec]:
    """The 422 of an operation whose services apply rules JSON Schema cannot state (spaces that do not count
    as characters, one date after another, a name someone already uses…): the problem details' ``errors``
    name the field, in the request's language."""
    return {422: ResponseSpec(data_container=Problem, media_type=PROBLEM_MEDIA_TYPE, generate_examples=False,
                              description=f"{_DESCRIPTIONS[422]} {reasons}")}


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
    """Give every operation in the description the error answers it can send and, on the API, whether it
    needs the Bearer token (see the module's docstring). What an operation declares itself is kept."""
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
            guarded = bool(handler.resolve_guards())
            if route.path.startswith(_API_PREFIXES) and handler.security is None:
                handler.security = TOKEN_REQUIRED if guarded else TOKEN_OPTIONAL
            for status in error_statuses(method, route.path, bool(route.path_parameters), guarded,
                                         bool(parameters), template is not None):
                declared.setdefault(status, ResponseSpec(data_container=container, media_type=media_type,
                                                         description=_DESCRIPTIONS[status],
                                                         generate_examples=False))
            handler.responses = declared


# What the hygiene layer accepts in any text (query, path, header, form or JSON string), as a JSON Schema
# pattern built from the very class it refuses: ``^[^<FORBIDDEN>]*$`` with every character escaped. Lone
# surrogates are left out: no UTF-8 text can carry one (a JSON escape of one is malformed JSON, a 400), and
# a pattern naming them is one that JSON Schema validators written in Rust or Go cannot compile.
_REFUSED = "".join("-" if c == "-" else f"\\u{ord(c):04x}"
                   for c in FORBIDDEN.pattern[1:-1].replace("\ud800-\udfff", ""))
TEXT_PATTERN = f"^[^{_REFUSED}]*$"


def listed(most: int) -> str:
    """Text (as ``TEXT_PATTERN`` admits it) of at most ``most`` comma-separated values."""
    return f"^[^,{_REFUSED}]*(?:,[^,{_REFUSED}]*){{0,{most - 1}}}$"


def _declare_text_rule(node: object, seen: set[int]) -> None:
    """Give every free-text string schema under ``node`` the hygiene layer's pattern (strings with a format,
    a closed set of values or a pattern of their own already say more)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, dict):
        for value in node.values():
            _declare_text_rule(value, seen)
    elif isinstance(node, list | tuple):
        for value in node:
            _declare_text_rule(value, seen)
    elif dataclasses.is_dataclass(node):
        if (isinstance(node, Schema) and node.type == OpenAPIType.STRING and node.pattern is None
                and node.format is None and node.enum is None and node.const is None):
            node.pattern = TEXT_PATTERN
        for field in dataclasses.fields(node):
            _declare_text_rule(getattr(node, field.name), seen)


class _DescribedInput(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, adding to the description it builds the characters every text refuses."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        _declare_text_rule(openapi, set())
        _admit_null_in_enums(openapi, set())
        _declare_closed_structs(openapi)
        return openapi


def _admit_null_in_enums(node: object, seen: set[int]) -> None:
    """Litestar puts a field's constraints beside the ``oneOf`` of an optional field: an ``enum`` there would
    refuse the null the field accepts, so null joins the enum."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, dict | list | tuple):
        for value in node.values() if isinstance(node, dict) else node:
            _admit_null_in_enums(value, seen)
    elif dataclasses.is_dataclass(node):
        if (isinstance(node, Schema) and node.enum and None not in node.enum and any(
                isinstance(choice, Schema) and choice.type == OpenAPIType.NULL for choice in node.one_of or ())):
            node.enum = [*node.enum, None]
        for field in dataclasses.fields(node):
            _admit_null_in_enums(getattr(node, field.name), seen)


def _structs(cls: type = msgspec.Struct) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _structs(sub)


def _declare_closed_structs(openapi: OpenAPI) -> None:
    """A struct that refuses unknown members (``forbid_unknown_fields``) is described as closed
    (``additionalProperties: false``), which Litestar leaves out."""
    closed = {cls.__name__: set(cls.__struct_encode_fields__) for cls in _structs()
              if cls.__struct_config__.forbid_unknown_fields}
    for name, schema in ((openapi.components.schemas or {}) if openapi.components else {}).items():
        if isinstance(schema, Schema) and name in closed and set(schema.properties or {}) == closed[name]:
            schema.additional_properties = False


def declare_text_rule(app: Litestar) -> None:
    """State the hygiene layer's refused characters on every string of the description, so that what the
    description calls valid is what the API accepts (schemathesis' positive_data_acceptance)."""
    app.plugins.get(OpenAPIPlugin).__class__ = _DescribedInput


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
