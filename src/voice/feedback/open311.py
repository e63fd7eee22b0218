"""Open311 GeoReport v2 over our catalogue and feedback, for the tools cities and agencies already run.

Mapping
-------
- A *service* is one active e-service of an active agency. ``service_code`` is
  ``"<agency_slug>.<service_slug>"``; ``service_name`` and ``group`` (the agency's name) follow the
  request's language (``?lang=``, then ``Accept-Language``); ``description`` is the Arabic
  description, or the service's name when there is none or English is asked for (the catalogue has
  no English descriptions). ``metadata`` is always false, ``type`` always "realtime", and
  ``keywords`` lists the feedback kinds a request may carry.
- A *service request* is one feedback item. In lists its ``service_request_id`` is a public id
  ("FB-123"); the tracking code (returned by POST, the submitter's key to private answers, as on
  the tracking page) is echoed only to whoever looks an item up by it. ``status`` is "closed"
  for resolved and declined items, "open" otherwise; ``status_notes`` is the note of the latest
  status change (null without one); ``description`` is always the public, redacted text, never
  what the person wrote; ``expected_datetime`` is the agency's answer deadline (``due_at``). Times
  are ISO 8601 with their offset, in Saudi time (+03:00).
- ``POST requests.json`` goes through ``FeedbackService.submit`` (same checks as the web form and
  the JSON API) with channel ``open311``. ``attribute[kind]`` (complaint, suggestion, praise,
  question; default complaint), ``attribute[submitter_kind]`` (default individual) and
  ``attribute[publish]`` (true/false, default false) map onto our fields; ``email`` becomes the
  private contact address for status e-mails. The body is form-encoded as the standard says, or a
  JSON object (``attribute`` may then be a nested object).
- Authentication is by Bearer token or none, as for /api/; ``api_key`` is accepted and ignored.

Deviations from the standard, and why
-------------------------------------
- Location is not required. Our services are e-services with no physical place, so ``lat``,
  ``long``, ``address_string`` and ``address_id`` are accepted and discarded, and answers carry
  ``address``, ``lat``, ``long`` and ``media_url`` as null. ``first_name``, ``last_name``,
  ``phone``, ``device_id``, ``account_id`` and ``media_url`` are accepted and never stored.
- Items sent without a particular e-service (possible on the web form) carry the bare agency slug
  as ``service_code``; that code is also accepted by ``POST requests.json`` and by the
  ``service_code`` filter, although services.json does not list it.
- ``GET requests.json`` returns only items whose author agreed to publish them and that are on the
  public board, newest first, at most 1000. Without ``service_request_id`` it covers
  ``start_date``..``end_date`` (default: the last 90 days; a missing end is start + 90 days, a
  missing start is end - 90 days; a span over 90 days is refused). Dates without an offset are
  read as UTC. ``service_request_id`` (at most 100, comma-separated) overrides every other filter,
  as the standard says, but still returns only public items, so the list cannot be used to probe
  for private ones: a private item is seen through ``requests/{id}.json`` by its code only.
- Only JSON: every ``.xml`` address answers 400 with an Open311 error saying so. There is no
  discovery document and no service definitions (``metadata`` is false for every service).
- Errors are the standard's JSON array ``[{"code": <HTTP status>, "description": "..."}]``, one
  entry per invalid field (prefixed "field: ") in the request's language: 400 for missing or
  invalid parameters (also our usual 422 validation failures), 404 for an unknown
  ``service_code`` or ``service_request_id``, 415 for a body that is neither form-encoded nor JSON,
  429 when throttled (30 POSTs a minute per client), 503 when the database is unreachable.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, route
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException, MethodNotAllowedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SubmitterKind, User
from voice.catalogue.models import Agency, Service
from voice.errors import DomainError, NotFound, ValidationFailed
from voice.feedback.controllers import provide_feedback
from voice.feedback.models import Channel, Event, Feedback, FeedbackKind, Status
from voice.feedback.services import FeedbackService, Submission, normalize_tracking_code
from voice.i18n import RIYADH, _, fmt_date, get_locale
from voice.ids import parse_id
from voice.text import public_text
from voice.web.errors import _database_errors, database_unreachable
from voice.web.locale import apply_locale
from voice.web.throttle import throttle

log = logging.getLogger(__name__)

MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
MAX_LIST_VALUES = 100  # codes or ids in one comma-separated filter
MAX_FIELDS = 100  # fields in one POST body
CLOSED = (Status.RESOLVED, Status.DECLINED)
_ANY = [HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE]

# Our field names (as FeedbackService reports them) → the Open311 parameter the client sent.
_FIELDS = {
    "agency": "service_code",
    "service": "service_code",
    "body": "description",
    "contact_email": "email",
    "kind": "attribute[kind]",
    "submitter_kind": "attribute[submitter_kind]",
    "code": "service_request_id",
}
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no", ""}
# "+03:00" sent unescaped in a query string arrives as " 03:00".
_SPACE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class Open311Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311Created(msgspec.Struct):
    service_request_id: str
    service_notice: str | None
    account_id: str | None = None


class Open311Request(msgspec.Struct):
    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None


# ----- errors in the standard's format ---------------------------------------------------------


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


def _message(status: int) -> str:
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
    for key, message in exc.errors.items():
        by_field.setdefault(_FIELDS.get(key, key), message)
    return open311_errors(status, [f"{name}: {message}" for name, message in by_field.items()])


def _on_http_exception(request: Request, exc: HTTPException) -> Response[Any]:
    apply_locale(request.scope)
    status = exc.status_code
    if status >= 500:
        log.error("open311 %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
    descriptions = [_message(status)]
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
    return open311_errors(503, [_message(503)], {"Retry-After": "5"})


def _on_unexpected(request: Request, exc: Exception) -> Response[Any]:
    apply_locale(request.scope)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return open311_errors(500, [_message(500)])


_exception_handlers: dict[Any, Any] = {
    DomainError: _on_domain_error,
    HTTPException: _on_http_exception,
    UnicodeDecodeError: _on_bad_encoding,
    Exception: _on_unexpected,
    **{exc: _on_database_down for exc in _database_errors()},
    OSError: lambda request, exc: (_on_database_down if database_unreachable(exc) else _on_unexpected)(request, exc),
}


def _register_driver_errors() -> None:
    from sqlalchemy.exc import DBAPIError

    _exception_handlers[DBAPIError] = (
        lambda request, exc: (_on_database_down if database_unreachable(exc) else _on_unexpected)(request, exc))


_register_driver_errors()


# ----- the controller --------------------------------------------------------------------------


class Open311Error(msgspec.Struct):
    code: int
    description: str


def _errors_doc(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the standard's error list, so clients (and schema checks) know its shape."""
    return {status: ResponseSpec(data_container=list[Open311Error], description="Open311 error list")
            for status in statuses}


class Open311Api(Controller):
    path = "/open311/v2"
    tags = ["open311"]
    dependencies = {"feedback": Provide(provide_feedback, sync_to_thread=False)}
    exception_handlers = _exception_handlers

    @get("/services.json", summary="Open311: the e-services one can send requests about",
         responses=_errors_doc(400))
    async def services(self, db_session: AsyncSession) -> list[Open311Service]:
        lang = get_locale()
        order = (Agency.name_ar, Service.name_ar) if lang == "ar" else (Agency.name_en, Service.name_en)
        rows = (await db_session.scalars(
            select(Service).join(Agency, Agency.id == Service.agency_id)
            .where(Agency.is_active.is_(True), Service.is_active.is_(True)).order_by(*order))).unique().all()
        keywords = ",".join(kind.value for kind in FeedbackKind)
        return [
            Open311Service(
                service_code=_code_of(s.agency, s),
                service_name=s.name(lang),
                description=(s.description_ar if lang == "ar" else "") or s.name(lang),
                metadata=False,
                type="realtime",
                keywords=keywords,
                group=s.agency.name(lang),
            )
            for s in rows
        ]

    @post("/requests.json", summary="Open311: send a service request (feedback)", status_code=201,
          middleware=[throttle("open311", 30)], responses=_errors_doc(400, 401, 404, 429),
          description="Form-encoded (or JSON) fields: service_code and description (required), email, "
                      "attribute[kind], attribute[submitter_kind], attribute[publish]. Location fields are "
                      "accepted and ignored: our services are e-services.")
    async def create(self, request: Request, feedback: FeedbackService,
                     db_session: AsyncSession) -> Response[list[Open311Created]]:
        fields = await _read_fields(request)
        errors: dict[str, str] = {}
        code = fields.get("service_code", "").strip()
        description = fields.get("description", "")
        for name, value in (("service_code", code), ("description", description)):
            if not value.strip():
                errors[name] = _("This parameter is required.")
        publish = _flag(fields.get("attribute[publish]", ""))
        if publish is None:
            errors["attribute[publish]"] = _("Use “true” or “false”.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        agency, service = await _resolve_code(db_session, code)
        user: User | None = request.scope.get("user")
        item = await feedback.submit(Submission(
            agency=agency.slug,
            service=service.slug if service else None,
            body=description,
            kind=fields.get("attribute[kind]", "").strip() or FeedbackKind.COMPLAINT,
            submitter_kind=fields.get("attribute[submitter_kind]", "").strip() or SubmitterKind.INDIVIDUAL,
            contact_email=fields.get("email", "").strip() or None,
            publish=bool(publish),
            channel=Channel.OPEN311,
            language=get_locale(),
        ), user)
        return Response([Open311Created(service_request_id=item.tracking_code, service_notice=_notice(item))],
                        status_code=201)

    @get("/requests.json", summary="Open311: published service requests, newest first (at most 1000)",
         responses=_errors_doc(400))
    async def search(
        self,
        db_session: AsyncSession,
        service_request_id: Annotated[str | None, Parameter(
            description="Comma-separated tracking codes (at most 100); overrides the other filters.")] = None,
        service_code: Annotated[str | None, Parameter(description="Comma-separated service codes.")] = None,
        start_date: Annotated[str | None, Parameter(
            description="ISO 8601; default: end_date - 90 days.")] = None,
        end_date: Annotated[str | None, Parameter(description="ISO 8601; default: now.")] = None,
        status: Annotated[str | None, Parameter(description="open, closed, or both comma-separated.")] = None,
    ) -> list[Open311Request]:
        errors: dict[str, str] = {}
        stmt: Select = select(Feedback).where(Feedback.is_public)
        ids = _split(service_request_id)
        if ids:
            if len(ids) > MAX_LIST_VALUES:
                raise ValidationFailed(_("At most %(n)s values, comma-separated.", n=MAX_LIST_VALUES),
                                       field="service_request_id")
            codes = [c for c in (normalize_tracking_code(i) for i in ids) if c]
            numbers = [n for n in (_public_number(i) for i in ids) if n is not None]
            stmt = stmt.where(or_(Feedback.tracking_code.in_(codes), Feedback.id.in_(numbers)))
        else:
            start, end = _window(start_date, end_date, errors)
            wanted = {s.lower() for s in _split(status)}
            if wanted - {"open", "closed"}:
                errors["status"] = _("Use “open”, “closed” or both, comma-separated.")
            services = _split(service_code)
            if len(services) > MAX_LIST_VALUES:
                errors["service_code"] = _("At most %(n)s values, comma-separated.", n=MAX_LIST_VALUES)
            if errors:
                raise ValidationFailed(next(iter(errors.values())), errors=errors)
            stmt = stmt.where(Feedback.created_at >= start, Feedback.created_at <= end)
            if wanted == {"open"}:
                stmt = stmt.where(Feedback.status.not_in(CLOSED))
            elif wanted == {"closed"}:
                stmt = stmt.where(Feedback.status.in_(CLOSED))
            if services:
                matches = []
                for code in services:
                    agency, service = await _resolve_code(db_session, code)
                    matches.append(and_(Feedback.agency_id == agency.id, Feedback.service_id == service.id)
                                   if service else
                                   and_(Feedback.agency_id == agency.id, Feedback.service_id.is_(None)))
                stmt = stmt.where(or_(*matches))
        items = list((await db_session.scalars(
            stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(MAX_RESULTS))).all())
        notes = await _status_notes(db_session, [item.id for item in items])
        return [_as_request(item, notes.get(item.id), public=True) for item in items]

    @get("/requests/{service_request_id:str}",
         summary="Open311: one service request, by its id (the tracking code)", responses=_errors_doc(400, 404))
    async def detail(
        self,
        service_request_id: Annotated[str, Parameter(description="The tracking code followed by .json")],
        feedback: FeedbackService,
        db_session: AsyncSession,
    ) -> list[Open311Request]:
        wanted = _json_name(service_request_id)
        number = _public_number(wanted)
        if number is not None:  # a published item, by its public id
            item = await db_session.scalar(select(Feedback).where(Feedback.id == number, Feedback.is_public))
            if item is None:
                raise NotFound(_("No feedback has this id."), field="service_request_id")
            notes = await _status_notes(db_session, [item.id])
            return [_as_request(item, notes.get(item.id), public=True)]
        item = await feedback.by_tracking_code(wanted)  # the submitter's own code
        notes = await _status_notes(db_session, [item.id])
        return [_as_request(item, notes.get(item.id), public=False)]

    @route(["/services.json", "/requests/{service_request_id:str}"], include_in_schema=False,
           http_method=[HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE])
    async def read_only(self) -> None:
        raise MethodNotAllowedException(headers={"Allow": "GET"})

    @route("/requests.json", include_in_schema=False,
           http_method=[HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE])
    async def read_or_send(self) -> None:
        raise MethodNotAllowedException(headers={"Allow": "GET, POST"})

    # Litestar's router does not fall back from a matched prefix, hence a catch-all below requests/{id} too.
    @route("/{rest:path}", include_in_schema=False, http_method=_ANY)
    async def elsewhere(self, rest: str) -> None:
        _unknown(rest)

    @route("/requests/{service_request_id:str}/{rest:path}", include_in_schema=False, http_method=_ANY)
    async def below_request(self, rest: str) -> None:
        _unknown(rest)


# ----- helpers ---------------------------------------------------------------------------------


def _code_of(agency: Agency, service: Service | None) -> str:
    return f"{agency.slug}.{service.slug}" if service else agency.slug


async def _resolve_code(session: AsyncSession, code: str) -> tuple[Agency, Service | None]:
    """The active agency (and e-service) a service_code names, or 404."""
    service = await session.scalar(
        select(Service).join(Agency, Agency.id == Service.agency_id)
        .where(Agency.is_active.is_(True), Service.is_active.is_(True),
               (Agency.slug + "." + Service.slug) == code))
    if service is not None:
        return service.agency, service
    agency = await session.scalar(select(Agency).where(Agency.slug == code, Agency.is_active.is_(True)))
    if agency is None:
        raise NotFound(_("No service has this code. See /open311/v2/services.json."), field="service_code")
    return agency, None


def _unknown(path: str) -> None:
    _json_name(path)  # an .xml address says why it is refused
    raise NotFound(_message(404))


def _json_name(name: str) -> str:
    """The id in "<id>.json"; ".xml" is refused (JSON only) and anything else is not found."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return name[:-5]
    if lowered.endswith(".xml"):
        raise DomainError(_("Only the JSON format is supported: use .json instead of .xml."))
    raise NotFound(_message(404))


async def _read_fields(request: Request) -> dict[str, str]:
    """The POST body as flat fields: form-encoded (the standard) or a JSON object; strict UTF-8."""
    media_type, _options = request.content_type
    text = (await request.body()).decode("utf-8")  # UnicodeDecodeError → 400
    if media_type == "application/json":
        return _json_fields(text)
    if media_type not in ("", "application/x-www-form-urlencoded"):
        raise HTTPException(status_code=415)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:  # percent-encoded bytes that are not UTF-8
        raise
    except ValueError:
        raise DomainError(_("Too many fields in the request.")) from None
    return dict(pairs)  # a repeated field: the last one wins


def _json_fields(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DomainError(_("The request body is not a valid JSON object."))
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "attribute" and isinstance(value, dict):
            flat.update({f"attribute[{k}]": v for k, v in value.items()})
        else:
            flat[key] = value
    if len(flat) > MAX_FIELDS:
        raise DomainError(_("Too many fields in the request."))
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, value in flat.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        else:
            errors[key] = _("This value is not valid.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    return out


def _flag(raw: str) -> bool | None:
    value = raw.strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _parse_when(raw: str | None, name: str, errors: dict[str, str]) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(_SPACE_OFFSET.sub(r"\1+\2", raw.strip()))
    except ValueError:
        errors[name] = _("Use an ISO 8601 date and time, e.g. 2025-01-31T09:00:00+03:00.")
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _window(start_raw: str | None, end_raw: str | None, errors: dict[str, str]) -> tuple[datetime, datetime]:
    """The requested_datetime range: 90 days at most, the last 90 days by default."""
    start = _parse_when(start_raw, "start_date", errors)
    end = _parse_when(end_raw, "end_date", errors)
    now = datetime.now(UTC)
    if "start_date" in errors or "end_date" in errors:
        return now - WINDOW, now
    try:
        if start is None:
            end = end or now
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
    except OverflowError:
        errors["start_date" if end is None else "end_date"] = _("This date is out of range.")
        return now - WINDOW, now
    if start > end:
        errors["end_date"] = _("end_date must come after start_date.")
    elif end - start > WINDOW:
        errors["end_date"] = _("The dates may span at most 90 days.")
    return start, end


async def _status_notes(session: AsyncSession, ids: list[int]) -> dict[int, str | None]:
    """The note of each item's latest public status change (None when that change had none)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Event.feedback_id, Event.note)
        .where(Event.feedback_id.in_(ids), Event.kind == "status", Event.public.is_(True))
        .order_by(Event.feedback_id, Event.created_at.desc(), Event.id.desc())
        .distinct(Event.feedback_id))
    return {feedback_id: note for feedback_id, note in rows.all()}


def _when(value: datetime) -> str:
    return value.astimezone(RIYADH).replace(microsecond=0).isoformat()


def _notice(item: Feedback) -> str | None:
    if item.status.is_closed:
        return None
    return _("%(agency)s aims to answer by %(date)s.", agency=item.agency.name(get_locale()),
             date=fmt_date(item.due_at.astimezone(RIYADH).date()))


PUBLIC_PREFIX = "FB-"


def _public_number(value: str) -> int | None:
    """The item id in a public Open311 id ("FB-123"), or None."""
    value = value.strip()
    return parse_id(value[len(PUBLIC_PREFIX):]) if value.upper().startswith(PUBLIC_PREFIX) else None


def _as_request(item: Feedback, note: str | None, *, public: bool) -> Open311Request:
    """Lists show a public id; the tracking code is the submitter's key to private answers and is
    echoed only to whoever asked by it."""
    lang = get_locale()
    return Open311Request(
        service_request_id=f"{PUBLIC_PREFIX}{item.id}" if public else item.tracking_code,
        status="closed" if item.status.is_closed else "open",
        # Staff write these for the person; redacted too, in case one quotes an ID or a phone number.
        status_notes=public_text(note) if note else None,
        service_name=(item.service or item.agency).name(lang),
        service_code=_code_of(item.agency, item.service),
        description=item.body_public,
        agency_responsible=item.agency.name(lang),
        service_notice=_notice(item),
        requested_datetime=_when(item.created_at),
        updated_datetime=_when(item.updated_at),
        expected_datetime=_when(item.due_at),
    )
