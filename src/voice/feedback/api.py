"""Feedback JSON API: submit (with Idempotency-Key) and track. Authenticated by Bearer token or anonymous."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import HeaderParameter

from voice.accounts.models import SubmitterKind, User
from voice.catalogue.models import SLUG
from voice.errors import ValidationFailed
from voice.feedback.controllers import providers
from voice.feedback.intake.service import IDEMPOTENCY_KEY_LENGTH, IntakeService
from voice.feedback.intake.submission import RATINGS, Submission
from voice.feedback.models import Channel, Event, FeedbackKind
from voice.feedback.models import Response as Answer
from voice.feedback.tracking import TrackingService
from voice.i18n import _, get_locale
from voice.text import BodyText
from voice.web.openapi import documented, one_of, refusals, whole
from voice.web.throttle import throttle

# The channels an integrator may name: its own server ("api", the default) or its own app ("mobile").
API_CHANNELS = (Channel.API, Channel.MOBILE)
Slug = Annotated[str, documented(pattern=whole(SLUG))]


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    agency: Slug
    kind: Annotated[str, one_of(FeedbackKind)]
    submitter_kind: Annotated[str, one_of(SubmitterKind)]
    body: BodyText
    service: Slug | None = None
    rating: Annotated[int, documented(minimum=RATINGS[0], maximum=RATINGS[-1])] | None = None
    contact_email: Annotated[str, documented(format="email")] | None = None
    publish: bool = False
    channel: Annotated[str, one_of(API_CHANNELS)] | None = None


class FeedbackCreated(msgspec.Struct):
    id: int
    tracking_code: str
    status: str


class HistoryEntry(msgspec.Struct):
    at: str
    kind: str
    status: str | None
    note: str | None


class PublicAnswer(msgspec.Struct):
    at: str
    agency: str
    body: str
    public: bool


class FeedbackStatus(msgspec.Struct):
    tracking_code: str
    status: str
    agency: str
    service: str | None
    kind: str
    created_at: str
    due_at: str
    first_response_at: str | None
    resolved_at: str | None
    history: list[HistoryEntry]
    answers: list[PublicAnswer]


class FeedbackApi(Controller):
    path = "/api/v1/feedback"
    tags = ["feedback"]
    dependencies = {"intake": providers.intake, "tracking": providers.tracking}

    @post("/", summary="Submit feedback", middleware=[throttle("api_feedback", 30)], status_code=201,
          description="Send an `Idempotency-Key` header (8–200 characters, e.g. a UUID) to make retries safe: "
                      "the same key returns the first answer and never creates a second record.",
          responses=refusals("`body`: at least 5 characters besides spaces, plain text (no markup); "
                             "`agency`, `service`: an active agency, and an active e-service of it; "
                             "`contact_email`: a domain that receives mail (not a reserved name such as .test); "
                             "`Idempotency-Key`: 8–200 characters besides surrounding spaces, and not already used "
                             "for another request."))
    async def submit(
        self,
        request: Request,
        data: FeedbackIn,
        intake: IntakeService,
        idempotency_key: Annotated[str | None, HeaderParameter(
            name="Idempotency-Key", required=False,
            schema_extra={"min_length": IDEMPOTENCY_KEY_LENGTH[0], "max_length": IDEMPOTENCY_KEY_LENGTH[-1]})] = None,
    ) -> Response[FeedbackCreated]:
        user: User | None = request.scope.get("user")
        if data.channel is not None and data.channel not in API_CHANNELS:
            raise ValidationFailed(_("channel must be “api” or “mobile”."), field="channel")
        channel = Channel(data.channel or Channel.API)
        sub = Submission(agency=data.agency, service=data.service, kind=data.kind, submitter_kind=data.submitter_kind,
                         body=data.body, rating=data.rating, contact_email=data.contact_email, publish=data.publish,
                         channel=channel, language=get_locale())
        if idempotency_key is not None:
            scope = f"user:{user.id}" if user else "anonymous"
            status, body = await intake.submit_idempotent(sub, idempotency_key, scope, msgspec.json.encode(data), user)
            return Response(FeedbackCreated(**body), status_code=status)
        receipt = await intake.receive(sub, user)
        return Response(FeedbackCreated(**receipt.answer()), status_code=201)

    @get("/{tracking_code:str}", summary="Status, history and answers of one item",
         middleware=[throttle("api_track", 120)])
    async def track(self, tracking_code: str, tracking: TrackingService) -> FeedbackStatus:
        item = await tracking.by_tracking_code(tracking_code)
        events, answers = await tracking.public_history(item)
        return _status(item, events, answers)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _status(item: Any, events: list[Event], answers: list[Answer]) -> FeedbackStatus:
    return FeedbackStatus(
        tracking_code=item.tracking_code, status=item.status.value, agency=item.agency.slug,
        service=item.service.slug if item.service else None, kind=item.kind.value,
        created_at=_iso(item.created_at) or "", due_at=_iso(item.due_at) or "",
        first_response_at=_iso(item.first_response_at), resolved_at=_iso(item.resolved_at),
        history=[HistoryEntry(at=_iso(e.created_at) or "", kind=e.kind, status=e.to_status, note=e.note)
                 for e in events],
        answers=[PublicAnswer(at=_iso(a.created_at) or "", agency=a.agency.slug, body=a.body, public=a.public)
                 for a in answers],
    )
