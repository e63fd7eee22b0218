"""The agency's side of feedback (first cut): its items, the original text, answers and status changes.

Every handler loads items through FeedbackService.for_agency, so an id from another agency is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from voice.accounts.models import User
from voice.errors import DomainError
from voice.feedback.controllers import provide_feedback
from voice.feedback.models import Status
from voice.feedback.services import TRANSITIONS, FeedbackService
from voice.web.auth import admin, agency_member
from voice.web.forms import FormData, field

FeedbackId = Annotated[int, Parameter(ge=1, le=2**62)]


class AgencyFeedbackPages(Controller):
    path = "/agency/feedback"
    guards = [agency_member]
    include_in_schema = False
    dependencies = {"feedback": Provide(provide_feedback, sync_to_thread=False)}

    @get("/", name="agency_feedback")
    async def recent(self, request: Request, feedback: FeedbackService) -> Template:
        items = await feedback.agency_recent(request.user)
        return Template("agency/feedback_list.html", context={"items": items})

    @get("/{feedback_id:int}", name="agency_feedback_item")
    async def item(self, request: Request, feedback_id: FeedbackId, feedback: FeedbackService) -> Template:
        return await self._page(request.user, feedback_id, feedback)

    async def _page(self, user: User, feedback_id: int, feedback: FeedbackService, errors: dict | None = None,
                    form: dict | None = None, status_code: int = 200) -> Template:
        from voice.catalogue.services import AgencyService
        from voice.workspace.services import WorkspaceService

        item = await feedback.for_agency(user, feedback_id)
        events, answers = await feedback.agency_history(item)
        return Template("agency/feedback_item.html", status_code=status_code, context={
            "staff": await WorkspaceService(feedback.session).staff(item.agency_id),
            "agencies": await AgencyService(session=feedback.session).catalogue(),
            "item": item, "events": events, "answers": answers, "next_statuses": sorted(
                TRANSITIONS[item.status], key=list(Status).index),
            "errors": errors or {}, "form": form or {}})

    @post("/{feedback_id:int}/answer", name="agency_answer")
    async def answer(self, request: Request, feedback_id: FeedbackId, data: FormData,
                     feedback: FeedbackService) -> Any:
        body = field(data, "body")
        try:
            await feedback.answer(request.user, feedback_id, body, public=field(data, "visibility") != "private")
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request.user, feedback_id, feedback, exc.errors, {"body": body},
                                    status_code=exc.status_code)
        return Redirect(f"/agency/feedback/{feedback_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/{feedback_id:int}/status", name="agency_status")
    async def status(self, request: Request, feedback_id: FeedbackId, data: FormData,
                     feedback: FeedbackService) -> Any:
        reason = field(data, "reason")
        try:
            await feedback.change_status(request.user, feedback_id, field(data, "status"), reason)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request.user, feedback_id, feedback, exc.errors, {"reason": reason},
                                    status_code=exc.status_code)
        return Redirect(f"/agency/feedback/{feedback_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/{feedback_id:int}/approve", name="agency_approve")
    async def approve(self, request: Request, feedback_id: FeedbackId, feedback: FeedbackService) -> Redirect:
        await feedback.moderate(request.user, feedback_id, "approve", None)
        return Redirect(f"/agency/feedback/{feedback_id}", status_code=HTTP_303_SEE_OTHER)


class ModerationPages(Controller):
    """Platform moderation: reported items, hide and restore with a recorded reason."""

    path = "/admin/moderation"
    guards = [admin]
    include_in_schema = False
    dependencies = {"feedback": Provide(provide_feedback, sync_to_thread=False)}

    @get("/", name="moderation")
    async def queue(self, feedback: FeedbackService) -> Template:
        return Template("agency/moderation.html", context={"reports": await feedback.open_reports()})

    @post("/feedback/{feedback_id:int}", name="moderate")
    async def moderate(self, request: Request, feedback_id: FeedbackId, data: FormData,
                       feedback: FeedbackService) -> Redirect:
        await feedback.moderate(request.user, feedback_id, field(data, "action"), field(data, "reason"))
        return Redirect("/admin/moderation", status_code=HTTP_303_SEE_OTHER)
