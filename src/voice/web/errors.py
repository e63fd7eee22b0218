"""Error answers: JSON problem details (RFC 9457) for API clients, a page in the visitor's language otherwise.

Nothing here ever shows a stack trace; unexpected errors are logged with the request id and
answered with a plain 500 page.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
from advanced_alchemy.exceptions import NotFoundError as RepositoryNotFound
from advanced_alchemy.exceptions import RepositoryError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError

from voice.errors import Conflict, DomainError, NotFound, ValidationFailed
from voice.i18n import _, direction, get_locale, ngettext
from voice.web.auth import is_api_path
from voice.web.forms import is_htmx, url
from voice.web.locale import apply_locale
from voice.web.security_headers import security_headers

log = logging.getLogger("voice.errors")

# Errors that always mean "PostgreSQL cannot be reached right now", whatever the statement: a 503.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError, asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.AdminShutdownError)


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in to continue."),
        403: _("You do not have permission to do this."),
        404: _("We could not find this page."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with the current state of the record."),
        413: _("The request is too large."),
        415: _("This content type is not supported."),
        422: _("Some of the information is not valid."),
        429: _("Too many requests. Please wait a little and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("The service is temporarily unavailable. Please try again shortly."),
    }


def _title(status: int) -> str:
    titles = _titles()
    return titles.get(status) or titles[500 if status >= 500 else 400]


# msgspec's refusals of a value outside the bounds its struct declares (the bounds the published description
# states), in the words the services use for the same rule.
_TOO_SHORT = re.compile(r"^Expected `(?:str|array)` of length >= (\d+)")
_TOO_LONG = re.compile(r"^Expected `(?:str|array)` of length <= (\d+)")


def _explain(message: str) -> str:
    if found := _TOO_SHORT.match(message):
        return ngettext("Please write at least %(num)s character.", "Please write at least %(num)s characters.",
                        int(found.group(1)))
    if found := _TOO_LONG.match(message):
        return ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.",
                        int(found.group(1)))
    return _("This value is not valid.")


def _validation_errors(exc: ValidationException) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            out[key] = _explain(str(item.get("message") or ""))
    return out


def problem(status: int, detail: str | None = None, errors: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status), "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type="application/problem+json", headers=headers)


def error_page(request: Request, status: int, message: str | None = None,
               headers: dict[str, str] | None = None) -> Response[Any]:
    if is_htmx(request):
        # htmx swaps this fragment into the page's alert region instead of replacing the page.
        return Template(
            template_name="partials/error.html",
            context={"status": status, "title": _title(status), "message": message},
            status_code=status,
            headers={"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML", **(headers or {})},
        )
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": _title(status), "message": message,
                 "lang": get_locale(), "dir": direction()},
        status_code=status,
        headers=headers,
    )


def _respond(request: Request, status: int, detail: str | None, errors: dict[str, str] | None,
             headers: dict[str, str] | None = None) -> Response[Any]:
    # Route middleware (LocaleMiddleware, SecurityHeadersMiddleware) never ran for a path that
    # matched no route: set the language and the security headers here.
    apply_locale(request.scope)
    headers = {**security_headers(request.url.path, request.url.scheme == "https"), **(headers or {})}
    if is_api_path(request.url.path):
        return problem(status, detail, errors, headers)
    return error_page(request, status, detail, headers)


def handle_domain_error(request: Request, exc: DomainError) -> Response[Any]:
    return _respond(request, exc.status_code, exc.message, exc.errors or None)


# Error answers of a surface with a format of its own (Open311), for errors Litestar raises before any of
# its handlers is chosen (a method the address does not have): path prefix → exception handler.
_SURFACES: dict[str, Any] = {}


def answer_errors_below(prefix: str, handler: Any) -> None:
    _SURFACES[prefix] = handler


def handle_http_exception(request: Request, exc: HTTPException) -> Response[Any]:
    for prefix, handler in _SURFACES.items():
        if request.url.path.startswith(prefix):
            return handler(request, exc)
    status = exc.status_code
    if status == 401 and not is_api_path(request.url.path):
        return _to_sign_in(request)
    errors = _validation_errors(exc) if isinstance(exc, ValidationException) else None
    # Litestar's own details are English developer text; show ours, keep theirs for API clients.
    detail = None
    if is_api_path(request.url.path) and status < 500 and exc.detail and exc.detail != _title(status):
        detail = exc.detail
    headers = dict(exc.headers or {})
    return _respond(request, status, detail, errors, headers or None)


def _to_sign_in(request: Request) -> Response[Any]:
    """Browsers asked to sign in go to the sign-in page and come back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = url(request, "signin", query={"next": target})
    if is_htmx(request):
        return Response(None, status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


def handle_unexpected(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_api_path(request.url.path):
        return problem(HTTP_500_INTERNAL_SERVER_ERROR)
    try:
        return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)
    except Exception:  # the template itself failed: fall back to text
        return Response(_title(500), status_code=500, media_type=MediaType.TEXT)


def handle_bad_encoding(request: Request, exc: UnicodeDecodeError) -> Response[Any]:
    """A body that is not UTF-8 (Litestar lets the decode error escape as a 500)."""
    return _respond(request, 400, _("The request body is not valid UTF-8 text."), None)


def handle_database_down(request: Request, exc: Exception) -> Response[Any]:
    """PostgreSQL unreachable or restarting: a clear 503 the client may retry, not a 500."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 503, None, None, {"Retry-After": "5"})


def database_unreachable(exc: BaseException) -> bool:
    """Whether an OSError or a driver error means "PostgreSQL cannot be reached right now".

    Connecting fails with plain OSErrors: refused or reset over TCP, and a missing socket file (no
    file name attached) for a local server that is restarting; a driver error may carry a lost
    connection. Anything else is a real fault.
    """
    if isinstance(exc, ConnectionError | TimeoutError) or (isinstance(exc, FileNotFoundError) and not exc.filename):
        return True
    orig = getattr(exc, "orig", None)
    return bool(getattr(exc, "connection_invalidated", False)) or isinstance(
        orig, asyncpg.exceptions.AdminShutdownError | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.ConnectionDoesNotExistError | ConnectionError)


def refused_by_database(exc: BaseException) -> DomainError | None:
    """What PostgreSQL refused about the data rather than failed at: a constraint (unique, foreign key,
    check) is a 409, a value it cannot take (out of range, too long, malformed) a 422, in the visitor's
    language. Services check what they can first; this is the net under every one of them, so no
    such refusal is ever a 500 or raw English text."""
    if isinstance(exc, RepositoryError):  # advanced-alchemy's wrapper (English text) around the driver's error
        if isinstance(exc, RepositoryNotFound):
            return NotFound(_title(404))
        return refused_by_database(exc.__cause__) if exc.__cause__ is not None else None
    if isinstance(exc, IntegrityError):
        log.warning("constraint refused a write: %s", getattr(exc, "orig", exc))
        return Conflict(_title(409))
    if isinstance(exc, DataError):
        log.warning("value refused by the database: %s", getattr(exc, "orig", exc))
        return ValidationFailed(_title(422))
    return None


def handle_os_or_driver_error(request: Request, exc: Exception) -> Response[Any]:
    """Driver errors, and advanced-alchemy's repository errors that wrap them."""
    cause = exc.__cause__ if isinstance(exc, RepositoryError) and exc.__cause__ is not None else exc
    if isinstance(cause, DATABASE_ERRORS) or database_unreachable(cause):
        return handle_database_down(request, exc)
    refused = refused_by_database(exc)
    if refused is not None:
        return handle_domain_error(request, refused)
    return handle_unexpected(request, exc)


exception_handlers: dict[Any, Any] = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    UnicodeDecodeError: handle_bad_encoding,
    # Litestar picks the handler of the closest class in the exception's MRO, so the driver errors that
    # always mean "unreachable" get the 503 directly and other driver errors are looked at first.
    OSError: handle_os_or_driver_error,
    DBAPIError: handle_os_or_driver_error,
    # Registered here, advanced-alchemy's plugin adds no handler of its own (it answered in English).
    RepositoryError: handle_os_or_driver_error,
    **dict.fromkeys(DATABASE_ERRORS, handle_database_down),
    Exception: handle_unexpected,
}
