"""The themes dashboard, theme runs with live progress, and one theme's page: staff edits and the
bulk actions on its open items."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.catalogue.models import Agency
from voice.errors import DomainError, NotFound
from voice.feedback.lifecycle import next_statuses
from voice.feedback.models import OPEN_STATUSES, Feedback
from voice.i18n import _
from voice.ids import MAX_ID, parse_id
from voice.themes.alerts import emerging_themes, mute
from voice.themes.edits import ThemeService
from voice.themes.groups import rename_group
from voice.themes.models import ThemeRun
from voice.themes.services import request_refresh
from voice.web import charts
from voice.web.forms import FormData, field, redirect_to
from voice.workspace.access import agency_of
from voice.workspace.bulk import BulkService
from voice.workspace.controllers.base import WorkspacePages
from voice.workspace.dashboard import DashboardService
from voice.workspace.inbox import InboxService

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class ThemePages(WorkspacePages):

    @get("/", name="agency_dashboard")
    async def dashboard_page(self, request: Request, dashboard: DashboardService, db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        run = await db_session.scalar(select(ThemeRun).where(ThemeRun.agency_id == agency_id,
                                                             ThemeRun.scope == "feedback")
                                      .order_by(ThemeRun.id.desc()).limit(1))
        return Template("workspace/dashboard.html", context={
            "agency": await db_session.get_one(Agency, agency_id), "tops": await dashboard.top_themes(agency_id),
            "unthemed": await dashboard.unthemed_count(agency_id), "run": run, "sparkline": charts.sparkline,
            "emerging": await emerging_themes(db_session, agency_id)})

    @post("/themes/{theme_id:int}/mute-emerging", name="theme_mute_emerging")
    async def mute_emerging(self, request: Request, theme_id: Id, db_session: AsyncSession) -> Redirect:
        await mute(db_session, request.user, theme_id)
        return redirect_to(request, "agency_dashboard")

    @post("/themes/groups/{group_id:int}/rename", name="theme_group_rename")
    async def rename_group(self, request: Request, group_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await rename_group(db_session, request.user, group_id, field(data, "label"))
        return redirect_to(request, "agency_dashboard")

    @post("/themes/refresh", name="themes_refresh")
    async def refresh(self, request: Request, db_session: AsyncSession) -> Template:
        run = await request_refresh(db_session, agency_of(request.user), request.user)
        return Template("workspace/partials/run.html", context={"run": run})

    @get("/themes/runs/{run_id:int}", name="theme_run")
    async def run_status(self, request: Request, run_id: Id, db_session: AsyncSession) -> Template:
        run = await db_session.scalar(select(ThemeRun).where(ThemeRun.id == run_id,
                                                             ThemeRun.agency_id == agency_of(request.user)))
        if run is None:
            raise NotFound(_("No such run."))
        headers = {"HX-Refresh": "true"} if run.status == "succeeded" and request.query_params.get("watch") else None
        return Template("workspace/partials/run.html", context={"run": run}, headers=headers)

    @get("/themes/{theme_id:int}", name="theme_page")
    async def theme(self, request: Request, theme_id: Id, bulk: BulkService, themes: ThemeService,
                    inbox: InboxService, db_session: AsyncSession) -> Template:
        theme, open_items = await bulk.theme_targets(request.user, theme_id)
        items = (await db_session.scalars(select(Feedback).where(Feedback.theme_id == theme.id)
                                          .order_by(Feedback.created_at.desc()).limit(200))).all()
        representative = (await db_session.scalars(select(Feedback).where(
            Feedback.id.in_(theme.representative_ids or []), Feedback.agency_id == theme.agency_id))).all()
        return Template("workspace/theme.html", context={
            "theme": theme, "group": await themes.group_of(theme), "items": items, "representative": representative,
            "others": await themes.active(theme.agency_id, order="label", without=theme.id),
            "open_count": len(open_items), "staff": await inbox.staff(theme.agency_id or 0),
            "statuses": next_statuses(*OPEN_STATUSES)})

    @post("/themes/{theme_id:int}/rename", name="theme_rename")
    async def rename(self, request: Request, theme_id: Id, data: FormData, themes: ThemeService) -> Redirect:
        await themes.rename(request.user, theme_id, field(data, "label"))
        return redirect_to(request, "theme_page", theme_id=theme_id)

    @post("/themes/{theme_id:int}/pin", name="theme_pin")
    async def pin(self, request: Request, theme_id: Id, data: FormData, themes: ThemeService) -> Redirect:
        await themes.pin(request.user, theme_id, field(data, "pinned") == "1")
        return redirect_to(request, "theme_page", theme_id=theme_id)

    @post("/themes/{theme_id:int}/merge", name="theme_merge")
    async def merge(self, request: Request, theme_id: Id, data: FormData, themes: ThemeService) -> Redirect:
        other = parse_id(field(data, "other"))
        if other is None:
            raise DomainError(_("Choose the theme to merge into this one."), field="other")
        await themes.merge(request.user, theme_id, other)
        return redirect_to(request, "theme_page", theme_id=theme_id)

    @post("/themes/{theme_id:int}/split", name="theme_split")
    async def split(self, request: Request, theme_id: Id, themes: ThemeService) -> Redirect:
        new = await themes.split(request.user, theme_id)
        return redirect_to(request, "theme_page", theme_id=new.id)

    @get("/themes/{theme_id:int}/preview", name="theme_preview")
    async def preview(self, request: Request, theme_id: Id, bulk: BulkService) -> Template:
        return Template("workspace/partials/preview.html", context=await bulk.preview(request.user, theme_id))

    @post("/themes/{theme_id:int}/answer", name="theme_answer")
    async def bulk_answer(self, request: Request, theme_id: Id, data: FormData, bulk: BulkService) -> Any:
        answer = await bulk.answer(request.user, theme_id, field(data, "body"), close=field(data, "close") == "1")
        return redirect_to(request, "theme_page", theme_id=theme_id, query={"answered": answer.item_count})

    @post("/themes/{theme_id:int}/status", name="theme_status")
    async def bulk_status(self, request: Request, theme_id: Id, data: FormData, bulk: BulkService) -> Any:
        moved = await bulk.move(request.user, theme_id, field(data, "status"), field(data, "reason") or None)
        return redirect_to(request, "theme_page", theme_id=theme_id, query={"moved": moved})

    @post("/themes/{theme_id:int}/assign", name="theme_assign")
    async def bulk_assign(self, request: Request, theme_id: Id, data: FormData, bulk: BulkService) -> Any:
        count = await bulk.assign(request.user, theme_id, parse_id(field(data, "assignee")))
        return redirect_to(request, "theme_page", theme_id=theme_id, query={"assigned": count})
