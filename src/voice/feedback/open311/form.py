"""The body of an Open311 service request (POST requests.json) as the published description states it.

The handler reads the form itself (strict UTF-8, the standard's bracketed attribute names, JSON too), so
Litestar sees no ``data`` to describe; ``FormOperation`` gives the operation its form-encoded body, built
from the words and rules the handler and the feedback intake check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from voice.accounts.models import SubmitterKind
from voice.catalogue.models import SLUG
from voice.feedback.models import FeedbackKind
from voice.text import MAX_BODY, MIN_BODY

# The words attribute[publish] takes (compared in lower case, surrounding spaces ignored).
TRUE_WORDS = frozenset({"true", "1", "on", "yes"})
FALSE_WORDS = frozenset({"false", "0", "off", "no", ""})
MAX_FIELDS = 100  # fields in one POST body
# A service code: "<agency>" or "<agency>.<e-service>", each a catalogue slug.
SERVICE_CODE = rf"^(?:{SLUG.pattern})(?:\.(?:{SLUG.pattern}))?$"


def _text(description: str, **rules: Any) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description, **rules)


def _words(description: str, words: set[str] | frozenset[str]) -> Schema:
    return _text(description, enum=sorted(str(word) for word in words))


def request_form() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["description", "service_code"],
        properties={
            "service_code": _text("From services.json.", pattern=SERVICE_CODE),
            "description": _text("What happened, in the person's words.", min_length=MIN_BODY,
                                 max_length=MAX_BODY),
            "email": _text("Where answers are sent (may be left empty).",
                           any_of=[Schema(max_length=0), Schema(format=OpenAPIFormat.EMAIL)]),
            "attribute[kind]": _words("Empty means complaint.", {"", *FeedbackKind}),
            "attribute[submitter_kind]": _words("Empty means individual.", {"", *SubmitterKind}),
            "attribute[publish]": _words("Publish on the public board (personal data hidden).",
                                         TRUE_WORDS | FALSE_WORDS),
        },
        # Other fields (the standard's location and contact fields) are accepted and ignored.
        additional_properties=Schema(type=OpenAPIType.STRING),
        property_names=Schema(type=OpenAPIType.STRING),
        max_properties=MAX_FIELDS,
    )


@dataclass
class FormOperation(Operation):
    """The Open311 POST, with its form-encoded body described."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True, content={"application/x-www-form-urlencoded": OpenAPIMediaType(schema=request_form())})
