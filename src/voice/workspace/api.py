"""Agency API for the agencies' own tools (Bearer token of an agency account), and job status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.errors import NotFound
from voice.feedback.lifecycle import LifecycleService
from voice.i18n import _
from voice.ids import MAX_ID
from voice.text import BodyText
from voice.themes.models import ThemeRun
from voice.themes.services import request_refresh
from voice.web.auth import agency_member
from voice.web.openapi import refusals
from voice.web.throttle import throttle
from voice.workspace.access import agency_of
from voice.workspace.controllers.base import dependencies
from voice.workspace.controllers.inbox import inbox_filters
from voice.workspace.dashboard import DashboardService
from voice.workspace.inbox import INBOX_PAGE, InboxService

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class InboxItem(msgspec.Struct):
    id: int
    tracking_code: str
    created_at: str
    kind: str
    submitter_kind: str
    channel: str
    service: str | None
    theme_id: int | None
    status: str
    rating: int | None
    due_at: str
    overdue: bool
    body: str
    contact_email: str | None


class InboxPage(msgspec.Struct):
    items: list[InboxItem]
    total: int
    page: int
    page_size: int


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True):
    body: BodyText
    public: bool = True


class ResponseOut(msgspec.Struct):
    id: int
    feedback_id: int
    public: bool


class ThemeOut(msgspec.Struct):
    id: int
    label: str
    keywords: list[str]
    size: int
    last_7_days: int
    last_30_days: int
    complaint_share: float | None
    average_rating: float | None
    open_past_due: int
    pinned: bool
    # The top-level theme holding this one (None until a refresh groups it) and its name; ``other``: the
    # bucket of items that say little or are in another language.
    parent: int | None = None
    parent_label: str | None = None
    other: bool = False


class JobAccepted(msgspec.Struct):
    job_id: int


class JobStatus(msgspec.Struct):
    job_id: int
    status: str
    stage: str
    progress: int
    attempts: int
    error: str | None
    n_themes: int | None


class AgencyApi(Controller):
    path = "/api/v1/agency"
    tags = ["agency"]
    guards = [agency_member]
    dependencies = dependencies

    @get("/feedback", summary="The agency's inbox (filters as in the workspace; 50 per page)")
    async def inbox(self, request: Request, inbox: InboxService) -> InboxPage:
        f = inbox_filters(request)
        items, total = await inbox.inbox(agency_of(request.user), f)
        now = datetime.now(UTC)
        return InboxPage(total=total, page=f.page, page_size=INBOX_PAGE, items=[InboxItem(
            id=i.id, tracking_code=i.tracking_code, created_at=i.created_at.isoformat(), kind=i.kind.value,
            submitter_kind=i.submitter_kind.value, channel=i.channel.value,
            service=i.service.slug if i.service else None, theme_id=i.theme_id, status=i.status.value,
            rating=i.rating, due_at=i.due_at.isoformat(),
            overdue=i.overdue(now), body=i.body, contact_email=i.contact_email)
            for i in items])

    @post("/feedback/{feedback_id:int}/responses", summary="Answer one item", status_code=201,
          middleware=[throttle("api_answer", 120)],
          responses=refusals("`body`: at least 5 characters besides spaces, plain text (no markup)."))
    async def respond(self, request: Request, feedback_id: Id, data: ResponseIn,
                      lifecycle: LifecycleService) -> ResponseOut:
        response = await lifecycle.answer(request.user, feedback_id, data.body, data.public)
        return ResponseOut(id=response.id, feedback_id=feedback_id, public=response.public)

    @get("/themes", summary="The agency's current themes with their figures and their top-level theme (parent)")
    async def themes(self, request: Request, dashboard: DashboardService) -> list[ThemeOut]:
        stats = await dashboard.theme_stats(agency_of(request.user))
        groups = await dashboard.theme_groups(agency_of(request.user))
        return [ThemeOut(id=s.theme.id, label=s.theme.label, keywords=list(s.theme.keywords or []), size=s.size,
                         last_7_days=s.last7, last_30_days=s.last30, complaint_share=s.complaint_share,
                         average_rating=s.avg_rating, open_past_due=s.overdue, pinned=s.theme.pinned,
                         parent=s.theme.group_id if s.theme.group_id in groups else None,
                         parent_label=groups[s.theme.group_id].label if s.theme.group_id in groups else None,
                         other=s.theme.other)
                for s in stats]

    @post("/themes/refresh", summary="Start a theme refresh (background job)", status_code=202,
          middleware=[throttle("api_refresh", 10)])
    async def refresh(self, request: Request, db_session: AsyncSession) -> Response[JobAccepted]:
        run = await request_refresh(db_session, agency_of(request.user), request.user)
        return Response(JobAccepted(job_id=run.id), status_code=202)


class JobsApi(Controller):
    path = "/api/v1/jobs"
    tags = ["agency"]
    guards = [agency_member]

    @get("/{job_id:int}", summary="Status and progress of a background job")
    async def status(self, request: Request, job_id: Id, db_session: AsyncSession) -> JobStatus:
        stmt = select(ThemeRun).where(ThemeRun.id == job_id)
        if not request.user.is_admin:
            stmt = stmt.where(ThemeRun.agency_id == request.user.agency_id)
        run = await db_session.scalar(stmt)
        if run is None:
            raise NotFound(_("No such job."))
        return JobStatus(job_id=run.id, status=run.status, stage=run.stage, progress=run.progress,
                         attempts=run.attempts, error=run.error, n_themes=run.n_themes)
