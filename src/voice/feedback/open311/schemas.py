"""What each Open311 operation answers, and how our records map onto it (see the package's docstring)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from voice.catalogue.models import Agency, Service
from voice.feedback.models import Feedback
from voice.i18n import RIYADH, _, fmt_date, get_locale
from voice.ids import parse_id
from voice.text import public_text

# Lists name an item by a public id; its tracking code is the submitter's key to private answers.
PUBLIC_PREFIX = "FB-"


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


def service_code(agency: Agency, service: Service | None) -> str:
    return f"{agency.slug}.{service.slug}" if service else agency.slug


def public_number(value: str) -> int | None:
    """The item id in a public Open311 id ("FB-123"), or None."""
    value = value.strip()
    return parse_id(value[len(PUBLIC_PREFIX):]) if value.upper().startswith(PUBLIC_PREFIX) else None


def as_service(service: Service, keywords: str) -> Open311Service:
    lang = get_locale()
    return Open311Service(
        service_code=service_code(service.agency, service),
        service_name=service.name(lang),
        # The catalogue has no English descriptions: English asks get the service's name.
        description=(service.description_ar if lang == "ar" else "") or service.name(lang),
        metadata=False,
        type="realtime",
        keywords=keywords,
        group=service.agency.name(lang),
    )


def as_request(item: Feedback, note: str | None, *, public: bool) -> Open311Request:
    """Lists show a public id; the tracking code is the submitter's key to private answers and is
    echoed only to whoever asked by it."""
    lang = get_locale()
    return Open311Request(
        service_request_id=f"{PUBLIC_PREFIX}{item.id}" if public else item.tracking_code,
        status="closed" if item.status.is_closed else "open",
        # Staff write these for the person; redacted too, in case one quotes an ID or a phone number.
        status_notes=public_text(note) if note else None,
        service_name=(item.service or item.agency).name(lang),
        service_code=service_code(item.agency, item.service),
        description=item.body_public,
        agency_responsible=item.agency.name(lang),
        service_notice=notice(item),
        requested_datetime=_when(item.created_at),
        updated_datetime=_when(item.updated_at),
        expected_datetime=_when(item.due_at),
    )


def notice(item: Feedback) -> str | None:
    if item.status.is_closed:
        return None
    return _("%(agency)s aims to answer by %(date)s.", agency=item.agency.name(get_locale()),
             date=fmt_date(item.due_at.astimezone(RIYADH).date()))


def _when(value: datetime) -> str:
    return value.astimezone(RIYADH).replace(microsecond=0).isoformat()
