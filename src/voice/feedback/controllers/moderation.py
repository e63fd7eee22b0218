"""Platform moderation: reported items, hide and restore with a recorded reason."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.feedback.controllers import providers
from voice.feedback.moderation import ModerationService
from voice.ids import MAX_ID
from voice.web.auth import admin
from voice.web.forms import FormData, field, redirect_to

FeedbackId = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class ModerationPages(Controller):
    path = "/admin/moderation"
    guards = [admin]
    include_in_schema = False
    dependencies = {"moderation": providers.moderation}

    @get("/", name="moderation")
    async def queue(self, moderation: ModerationService) -> Template:
        return Template("agency/moderation.html", context={"reports": await moderation.open_reports()})

    @post("/feedback/{feedback_id:int}", name="moderate")
    async def moderate(self, request: Request, feedback_id: FeedbackId, data: FormData,
                       moderation: ModerationService) -> Redirect:
        await moderation.moderate(request.user, feedback_id, field(data, "action"), field(data, "reason"))
        return redirect_to(request, "moderation")
