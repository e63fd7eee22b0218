"""The Open311 GeoReport v2 endpoints: addresses, parameters and formats (see the package's docstring).
The business side answers through ``Open311Queries``; requests are stored by the feedback intake."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, Response, get, post, route
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from voice.accounts.models import SubmitterKind, User
from voice.errors import DomainError, NotFound, ValidationFailed
from voice.feedback.controllers import providers
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import CLOSED_STATUSES, OPEN_STATUSES, Channel, FeedbackKind
from voice.feedback.open311.errors import errors_doc, exception_handlers, message
from voice.feedback.open311.form import FALSE_WORDS, MAX_FIELDS, TRUE_WORDS, FormOperation
from voice.feedback.open311.queries import Open311Queries, RequestSearch
from voice.feedback.open311.schemas import (
    Open311Created,
    Open311Request,
    Open311Service,
    as_request,
    as_service,
    notice,
    public_number,
)
from voice.feedback.tracking import normalize_tracking_code
from voice.i18n import _, get_locale, ngettext
from voice.web.openapi import listed
from voice.web.throttle import throttle

WINDOW = timedelta(days=90)
MAX_LIST_VALUES = 100  # codes or ids in one comma-separated filter
# The "status" filter's words and the statuses each one means.
STATUS_WORDS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
# Addresses that do not exist answer 404 to every method, OPTIONS included (no methods advertised there).
_ANY = [HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.OPTIONS]
# What the filters' values look like (the hygiene layer's refused characters excepted), for the description.
_STATUS_FILTER = "^(?:(?:{0})(?:,(?:{0}))*)?$".format("|".join(STATUS_WORDS))
_LISTED = listed(MAX_LIST_VALUES)
# "+03:00" sent unescaped in a query string arrives as " 03:00".
_SPACE_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class Open311Api(Controller):
    path = "/open311/v2"
    tags = ["open311"]
    dependencies = {"intake": providers.intake, "open311": Provide(create_service_provider(Open311Queries))}
    exception_handlers = exception_handlers

    @get("/services.json", summary="Open311: the e-services one can send requests about",
         responses=errors_doc(400))
    async def services(self, open311: Open311Queries) -> list[Open311Service]:
        keywords = ",".join(kind.value for kind in FeedbackKind)
        return [as_service(service, keywords) for service in await open311.services(get_locale())]

    @post("/requests.json", summary="Open311: send a service request (feedback)", status_code=201,
          middleware=[throttle("open311", 30)], operation_class=FormOperation,
          responses=errors_doc(400, 401, 404, 429, reasons={
              400: "`description`: at least 5 characters besides spaces, plain text (no markup); `email`: a domain "
                   "that receives mail (not a reserved name such as .test)."}),
          description="Form-encoded (or JSON) fields: service_code and description (required), email, "
                      "attribute[kind], attribute[submitter_kind], attribute[publish]. Location fields are "
                      "accepted and ignored: our services are e-services.")
    async def create(self, request: Request, intake: IntakeService,
                     open311: Open311Queries) -> Response[list[Open311Created]]:
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
        agency, service = await open311.resolve(code)
        user: User | None = request.scope.get("user")
        item = await intake.submit(Submission(
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
        return Response([Open311Created(service_request_id=item.tracking_code, service_notice=notice(item))],
                        status_code=201)

    @get("/requests.json", summary="Open311: published service requests, newest first (at most 1000)",
         responses=errors_doc(400, reasons={
             400: "`start_date`, `end_date`: the end comes after the start, at most 90 days later, and both fall "
                  "within the years 1–9999 once the 90-day default is added or taken away."}))
    async def search(
        self,
        open311: Open311Queries,
        service_request_id: Annotated[str | None, Parameter(
            description="Comma-separated tracking codes (at most 100); overrides the other filters.",
            schema_extra={"pattern": _LISTED})] = None,
        service_code: Annotated[str | None, Parameter(description="Comma-separated service codes (at most 100).",
                                                      schema_extra={"pattern": _LISTED})] = None,
        start_date: Annotated[str | None, Parameter(
            description="ISO 8601; default: end_date - 90 days.", schema_extra={"format": "date-time"})] = None,
        end_date: Annotated[str | None, Parameter(description="ISO 8601; default: now.",
                                                  schema_extra={"format": "date-time"})] = None,
        status: Annotated[str | None, Parameter(description="open, closed, or both comma-separated.",
                                                schema_extra={"pattern": _STATUS_FILTER})] = None,
    ) -> list[Open311Request]:
        errors: dict[str, str] = {}
        ids = _split(service_request_id)
        if ids:
            if len(ids) > MAX_LIST_VALUES:
                raise ValidationFailed(ngettext("At most %(num)s value, comma-separated.", "At most %(num)s values, comma-separated.", MAX_LIST_VALUES),
                                       field="service_request_id")
            wanted = RequestSearch(codes=[c for c in map(normalize_tracking_code, ids) if c],
                                   ids=[n for n in map(public_number, ids) if n is not None])
        else:
            start, end = _window(start_date, end_date, errors)
            words = {s.lower() for s in _split(status)}
            if words - set(STATUS_WORDS):
                errors["status"] = _("Use “open”, “closed” or both, comma-separated.")
            codes = _split(service_code)
            if len(codes) > MAX_LIST_VALUES:
                errors["service_code"] = ngettext("At most %(num)s value, comma-separated.", "At most %(num)s values, comma-separated.", MAX_LIST_VALUES)
            if errors:
                raise ValidationFailed(next(iter(errors.values())), errors=errors)
            wanted = RequestSearch(start=start, end=end, services=[await open311.resolve(c) for c in codes],
                                   statuses=STATUS_WORDS[words.pop()] if len(words) == 1 else None)
        items = await open311.search(wanted)
        notes = await open311.status_notes([item.id for item in items])
        return [as_request(item, notes.get(item.id), public=True) for item in items]

    @get("/requests/{service_request_id:str}",
         summary="Open311: one service request, by its id (the tracking code)", responses=errors_doc(400, 404))
    async def detail(
        self,
        service_request_id: Annotated[str, Parameter(description="The tracking code followed by .json")],
        open311: Open311Queries,
    ) -> list[Open311Request]:
        wanted = _json_name(service_request_id)
        number = public_number(wanted)
        # A published item by its public id; any item, private ones too, by the submitter's own code.
        item = await (open311.published(number) if number is not None else open311.tracked(wanted))
        notes = await open311.status_notes([item.id])
        return [as_request(item, notes.get(item.id), public=number is not None)]

    # Litestar's router does not fall back from a matched prefix, hence a catch-all below requests/{id} too.
    @route("/{rest:path}", include_in_schema=False, http_method=_ANY)
    async def elsewhere(self, rest: str) -> None:
        _unknown(rest)

    @route("/requests/{service_request_id:str}/{rest:path}", include_in_schema=False, http_method=_ANY)
    async def below_request(self, rest: str) -> None:
        _unknown(rest)


# ----- reading what the client sent ------------------------------------------------------------


def _unknown(path: str) -> None:
    _json_name(path)  # an .xml address says why it is refused
    raise NotFound(message(404))


def _json_name(name: str) -> str:
    """The id in "<id>.json"; ".xml" is refused (JSON only) and anything else is not found."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return name[:-5]
    if lowered.endswith(".xml"):
        raise DomainError(_("Only the JSON format is supported: use .json instead of .xml."))
    raise NotFound(message(404))


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
    return True if value in TRUE_WORDS else False if value in FALSE_WORDS else None


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
    try:  # a day at the calendar's edge can leave it once its offset is applied (year 0 or 10000)
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        errors[name] = _("This date is out of range.")
        return None


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
