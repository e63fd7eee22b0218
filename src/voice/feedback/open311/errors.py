"""Open311 errors in the standard's format: a JSON list of ``{"code", "description"}``, one entry per
invalid field, in the request's language; never problem+json, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from advanced_alchemy.exceptions import RepositoryError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.exc import DBAPIError

from voice.errors import DomainError
from voice.i18n import _
from voice.web.errors import DATABASE_ERRORS, answer_errors_below, database_unreachable, refused_by_database
from voice.web.locale import apply_locale

log = logging.getLogger(__name__)

# Our field names (as the feedback services report them) → the Open311 parameter the client sent.
FIELDS = {
    "agency": "service_code",
    "service": "service_code",
    "body": "description",
    "contact_email": "email",
    "kind": "attribute[kind]",
    "submitter_kind": "attribute[submitter_kind]",
    "code": "service_request_id",
}


class Open311Error(msgspec.Struct):
    code: int
    description: str


def errors_doc(*statuses: int, reasons: dict[int, str] | None = None) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the standard's error list, so clients (and schema checks) know its shape;
    ``reasons`` say which rules JSON Schema cannot state lead to a status (each entry names its field)."""
    return {status: ResponseSpec(data_container=list[Open311Error],
                                 description=" ".join(("Open311 error list.", (reasons or {}).get(status, ""))).strip())
            for status in statuses}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("The Bearer token is not valid. Send a valid token, or none."),
        403: _("You do not have permission to do this."),
        404: _("Nothing is found at this Open311 address. See /open311/v2/services.json."),
        405: _("This action is not allowed here."),
        413: _("The request is too large."),
        415: _("Send the request form-encoded (application/x-www-form-urlencoded) or as JSON."),
        429: _("Too many requests. Please wait a little and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("The service is temporarily unavailable. Please try again shortly."),
    }


def message(status: int) -> str:
    """The standard description of an HTTP status, in the request's language."""
    messages = _messages()
    return messages.get(status) or messages[500 if status >= 500 else 400]


def open311_errors(status: int, descriptions: list[str],
                   headers: dict[str, str] | None = None) -> Response[Any]:
    return Response([{"code": status, "description": text} for text in descriptions], status_code=status,
                    media_type=MediaType.JSON, headers=headers)


def _on_domain_error(request: Request, exc: DomainError) -> Response[Any]:
    # The standard answers invalid input with 400; our services say 422 for it.
    status = 400 if exc.status_code == 422 else exc.status_code
    if not exc.errors:
        return open311_errors(status, [exc.message])
    by_field: dict[str, str] = {}
    for key, text in exc.errors.items():
        by_field.setdefault(FIELDS.get(key, key), text)
    return open311_errors(status, [f"{name}: {text}" for name, text in by_field.items()])


def _on_http_exception(request: Request, exc: HTTPException) -> Response[Any]:
    apply_locale(request.scope)
    status = exc.status_code
    if status >= 500:
        log.error("open311 %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
    descriptions = [message(status)]
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        keys = dict.fromkeys(str(item.get("key") or item.get("source") or "body")
                             for item in exc.extra if isinstance(item, dict))
        invalid = _("This value is not valid.")
        descriptions = [f"{key}: {invalid}" for key in keys] or descriptions
    return open311_errors(status, descriptions, dict(exc.headers or {}) or None)


def _on_bad_encoding(request: Request, exc: UnicodeDecodeError) -> Response[Any]:
    apply_locale(request.scope)
    return open311_errors(400, [_("The request body is not valid UTF-8 text.")])


def _on_database_down(request: Request, exc: Exception) -> Response[Any]:
    apply_locale(request.scope)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return open311_errors(503, [message(503)], {"Retry-After": "5"})


def _on_unexpected(request: Request, exc: Exception) -> Response[Any]:
    apply_locale(request.scope)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return open311_errors(500, [message(500)])


def _on_os_or_driver_error(request: Request, exc: Exception) -> Response[Any]:
    cause = exc.__cause__ if isinstance(exc, RepositoryError) and exc.__cause__ is not None else exc
    if isinstance(cause, DATABASE_ERRORS) or database_unreachable(cause):
        return _on_database_down(request, exc)
    refused = refused_by_database(exc)
    if refused is not None:
        apply_locale(request.scope)
        return _on_domain_error(request, refused)
    return _on_unexpected(request, exc)


exception_handlers: dict[Any, Any] = {
    DomainError: _on_domain_error,
    HTTPException: _on_http_exception,
    UnicodeDecodeError: _on_bad_encoding,
    Exception: _on_unexpected,
    **dict.fromkeys(DATABASE_ERRORS, _on_database_down),
    OSError: _on_os_or_driver_error,
    DBAPIError: _on_os_or_driver_error,
    RepositoryError: _on_os_or_driver_error,
}
# A method an Open311 address does not have is refused before any of its handlers runs: same format.
answer_errors_below("/open311/", _on_http_exception)
