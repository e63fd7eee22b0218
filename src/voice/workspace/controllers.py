"""The agency workspace pages: dashboard by theme, theme page with bulk actions, inbox, transfers,
improvements, exports and charts; and the public "you said, we did" page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SubmitterKind
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, NotFound
from voice.feedback.models import Feedback, FeedbackKind, Status
from voice.i18n import _
from voice.ids import parse_id
from voice.themes import services as themes
from voice.themes.models import Theme, ThemeRun
from voice.web import charts
from voice.web.auth import agency_member
from voice.web.forms import FormData, field
from voice.workspace.models import Improvement, ImprovementKind, ImprovementStatus
from voice.workspace.services import InboxFilters, WorkspaceService, agency_of, to_csv, to_xlsx

Id = Annotated[int, Parameter(ge=1, le=2**62)]


def _filters(request: Request) -> InboxFilters:
    q = request.query_params

    def number(name: str, top: int = 2**62) -> int | None:
        value = parse_id(q.get(name))
        return value if value is not None and value <= top else None

    return InboxFilters(theme=number("theme"), status=q.get("status") or None, kind=q.get("kind") or None,
                        submitter_kind=q.get("submitter_kind") or None, service=q.get("service") or None,
                        overdue=q.get("overdue") in ("1", "on", "true"), rating=number("rating", 5),
                        assignee=number("assignee"), q=(q.get("q") or "")[:200] or None,
                        sort=q.get("sort") or "newest", page=number("page", 10_000) or 1)


async def _latest_run(session: AsyncSession, agency_id: int) -> ThemeRun | None:
    return await session.scalar(select(ThemeRun).where(ThemeRun.agency_id == agency_id, ThemeRun.scope == "feedback")
                                .order_by(ThemeRun.id.desc()).limit(1))


class WorkspacePages(Controller):
    path = "/agency"
    guards = [agency_member]
    include_in_schema = False

    @get("/", name="agency_dashboard")
    async def dashboard(self, request: Request, db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        ws = WorkspaceService(db_session)
        agency = await db_session.get_one(Agency, agency_id)
        stats = await ws.theme_stats(agency_id)
        return Template("workspace/dashboard.html", context={
            "agency": agency, "stats": stats, "unthemed": await ws.unthemed_count(agency_id),
            "run": await _latest_run(db_session, agency_id), "sparkline": charts.sparkline})

    @post("/themes/refresh", name="themes_refresh")
    async def refresh(self, request: Request, db_session: AsyncSession) -> Template:
        run = await themes.request_refresh(db_session, agency_of(request.user), request.user)
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
    async def theme(self, request: Request, theme_id: Id, db_session: AsyncSession) -> Template:
        ws = WorkspaceService(db_session)
        theme, open_items = await ws.theme_targets(request.user, theme_id)
        items = (await db_session.scalars(select(Feedback).where(Feedback.theme_id == theme.id)
                                          .order_by(Feedback.created_at.desc()).limit(200))).all()
        representative = (await db_session.scalars(select(Feedback).where(
            Feedback.id.in_(theme.representative_ids or []), Feedback.agency_id == theme.agency_id))).all()
        others = (await db_session.scalars(select(Theme).where(
            Theme.agency_id == theme.agency_id, Theme.scope == "feedback", Theme.retired.is_(False),
            Theme.id != theme.id).order_by(Theme.label))).all()
        return Template("workspace/theme.html", context={
            "theme": theme, "items": items, "representative": representative, "others": others,
            "open_count": len(open_items), "staff": await ws.staff(theme.agency_id or 0),
            "statuses": [Status.IN_REVIEW, Status.IN_PROGRESS, Status.RESOLVED, Status.DECLINED]})

    @post("/themes/{theme_id:int}/rename", name="theme_rename")
    async def rename(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await themes.rename_theme(db_session, request.user, theme_id, field(data, "label"))
        return Redirect(f"/agency/themes/{theme_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/themes/{theme_id:int}/pin", name="theme_pin")
    async def pin(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await themes.pin_theme(db_session, request.user, theme_id, field(data, "pinned") == "1")
        return Redirect(f"/agency/themes/{theme_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/themes/{theme_id:int}/merge", name="theme_merge")
    async def merge(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        other = parse_id(field(data, "other"))
        if other is None:
            raise DomainError(_("Choose the theme to merge into this one."), field="other")
        await themes.merge_themes(db_session, request.user, theme_id, other)
        return Redirect(f"/agency/themes/{theme_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/themes/{theme_id:int}/split", name="theme_split")
    async def split(self, request: Request, theme_id: Id, db_session: AsyncSession) -> Redirect:
        new = await themes.split_theme(db_session, request.user, theme_id)
        return Redirect(f"/agency/themes/{new.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/themes/{theme_id:int}/preview", name="theme_preview")
    async def preview(self, request: Request, theme_id: Id, db_session: AsyncSession) -> Template:
        info = await WorkspaceService(db_session).preview(request.user, theme_id)
        return Template("workspace/partials/preview.html", context=info)

    @post("/themes/{theme_id:int}/answer", name="theme_answer")
    async def bulk_answer(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        bulk = await WorkspaceService(db_session).bulk_answer(request.user, theme_id, field(data, "body"),
                                                              close=field(data, "close") == "1")
        return Redirect(f"/agency/themes/{theme_id}?answered={bulk.item_count}", status_code=HTTP_303_SEE_OTHER)

    @post("/themes/{theme_id:int}/status", name="theme_status")
    async def bulk_status(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        moved = await WorkspaceService(db_session).bulk_status(request.user, theme_id, field(data, "status"),
                                                               field(data, "reason") or None)
        return Redirect(f"/agency/themes/{theme_id}?moved={moved}", status_code=HTTP_303_SEE_OTHER)

    @post("/themes/{theme_id:int}/assign", name="theme_assign")
    async def bulk_assign(self, request: Request, theme_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        count = await WorkspaceService(db_session).bulk_assign(request.user, theme_id,
                                                               parse_id(field(data, "assignee")))
        return Redirect(f"/agency/themes/{theme_id}?assigned={count}", status_code=HTTP_303_SEE_OTHER)

    @get("/inbox", name="inbox")
    async def inbox(self, request: Request, db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        ws = WorkspaceService(db_session)
        f = _filters(request)
        items, total = await ws.inbox(agency_id, f)
        agency = await db_session.get_one(Agency, agency_id)
        theme_rows = (await db_session.scalars(select(Theme).where(
            Theme.agency_id == agency_id, Theme.scope == "feedback", Theme.retired.is_(False))
            .order_by(Theme.label))).all()
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return Template("workspace/inbox.html", context={
            "items": items, "total": total, "filters": f, "agency": agency, "themes": theme_rows,
            "staff": await ws.staff(agency_id), "statuses": list(Status), "kinds": list(FeedbackKind),
            "submitter_kinds": list(SubmitterKind), "query": query, "page_size": 50,
            "now": datetime.now(UTC)})

    @post("/feedback/{feedback_id:int}/note", name="item_note")
    async def note(self, request: Request, feedback_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await WorkspaceService(db_session).add_note(request.user, feedback_id, field(data, "note"))
        return Redirect(f"/agency/feedback/{feedback_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/feedback/{feedback_id:int}/assign", name="item_assign")
    async def assign(self, request: Request, feedback_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await WorkspaceService(db_session).assign(request.user, feedback_id, parse_id(field(data, "assignee")))
        return Redirect(f"/agency/feedback/{feedback_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/feedback/{feedback_id:int}/transfer", name="item_transfer")
    async def transfer(self, request: Request, feedback_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await WorkspaceService(db_session).transfer(request.user, feedback_id, field(data, "agency"),
                                                    field(data, "reason"))
        return Redirect("/agency/transfers", status_code=HTTP_303_SEE_OTHER)

    @get("/transfers", name="transfers")
    async def transfers(self, request: Request, db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        return Template("workspace/transfers.html", context={
            "transfers": await WorkspaceService(db_session).transfers(agency_id), "agency_id": agency_id})

    @get("/improvements", name="improvements")
    async def improvements(self, request: Request, db_session: AsyncSession) -> Template:
        rows = await WorkspaceService(db_session).improvements(agency_of(request.user))
        return Template("workspace/improvements.html", context={"rows": rows})

    @get("/improvements/new", name="improvement_new")
    async def improvement_new(self, request: Request, db_session: AsyncSession, theme: int | None = None) -> Template:
        return await self._improvement_form(request, db_session, None, {"themes": [str(theme)] if theme else []}, {})

    @get("/improvements/{improvement_id:int}", name="improvement_edit")
    async def improvement_edit(self, request: Request, improvement_id: Id, db_session: AsyncSession) -> Template:
        imp = await WorkspaceService(db_session).improvement(request.user, improvement_id)
        form = {"title": imp.title, "description": imp.description, "kind": imp.kind.value,
                "status": imp.status.value, "delivered_on": imp.delivered_on.isoformat() if imp.delivered_on else ""}
        return await self._improvement_form(request, db_session, imp, form, {})

    async def _improvement_form(self, request: Request, db_session: AsyncSession, imp: Improvement | None,
                                form: dict, errors: dict, status_code: int = 200) -> Template:
        agency_id = agency_of(request.user)
        theme_rows = (await db_session.scalars(select(Theme).where(
            Theme.agency_id == agency_id, Theme.scope == "feedback", Theme.retired.is_(False))
            .order_by(Theme.label))).all()
        return Template("workspace/improvement_form.html", status_code=status_code, context={
            "imp": imp, "form": form, "errors": errors, "themes": theme_rows,
            "kinds": list(ImprovementKind), "statuses": list(ImprovementStatus)})

    @post("/improvements", name="improvement_create")
    async def improvement_create(self, request: Request, data: FormData, db_session: AsyncSession) -> Any:
        return await self._save(request, data, db_session, None)

    @post("/improvements/{improvement_id:int}", name="improvement_update")
    async def improvement_update(self, request: Request, improvement_id: Id, data: FormData,
                                 db_session: AsyncSession) -> Any:
        return await self._save(request, data, db_session, improvement_id)

    async def _save(self, request: Request, data: dict, db_session: AsyncSession, improvement_id: int | None) -> Any:
        try:
            await WorkspaceService(db_session).save_improvement(request.user, data, improvement_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            imp = await WorkspaceService(db_session).improvement(request.user, improvement_id) if improvement_id else None
            form = {k: (v if k in ("themes", "feedback") else field(data, k)) for k, v in data.items()}
            return await self._improvement_form(request, db_session, imp, form, exc.errors, exc.status_code)
        return Redirect("/agency/improvements", status_code=HTTP_303_SEE_OTHER)

    @get("/export/{what:str}", name="export")
    async def export(self, request: Request, what: str, db_session: AsyncSession) -> Response[bytes]:
        agency_id = agency_of(request.user)
        ws = WorkspaceService(db_session)
        name, _dot, fmt = what.partition(".")
        if name == "inbox":
            header, rows = await ws.export_rows(agency_id, _filters(request))
        elif name == "themes":
            header, rows = await ws.theme_export_rows(agency_id)
        else:
            raise NotFound(_("Unknown export."))
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        if fmt == "csv":
            body, media = to_csv(header, rows), "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body, media = to_xlsx(header, rows, name), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            raise NotFound(_("Unknown export."))
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="voice-{name}-{stamp}.{fmt}"', "Cache-Control": "no-store"})

    @get("/charts", name="charts")
    async def charts_page(self, request: Request, db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        ws = WorkspaceService(db_session)
        stats = (await ws.theme_stats(agency_id))[:6]
        weeks = [(datetime.now(UTC) - timedelta(weeks=11 - i)).strftime("%d/%m") for i in range(12)]
        volume = charts.lines({s.theme.label: s.weekly for s in stats}, weeks, _("Feedback per theme, by week"))
        hours = await ws.response_times(agency_id)
        buckets = [(_("<1 day"), 24), (_("1–3 days"), 72), (_("3–7 days"), 168), (_("1–2 weeks"), 336),
                   (_(">2 weeks"), float("inf"))]
        counts, low = [], 0.0
        for _label, high in buckets:
            counts.append(sum(1 for h in hours if low <= h < high))
            low = high
        response_chart = charts.bars([b[0] for b in buckets], counts, _("Time to first answer"))
        months = await ws.sla_by_month(agency_id)
        sla_chart = charts.bars([m[0] for m in months], [round(100 * m[2] / m[1]) if m[1] else 0 for m in months],
                                _("Share answered within the SLA, by month"), unit="%", max_value=100)
        return Template("workspace/charts.html", context={
            "volume": volume, "response_chart": response_chart, "sla_chart": sla_chart,
            "answered": len(hours)})


class PublicImprovements(Controller):
    include_in_schema = False

    @get("/you-said-we-did", name="you_said_we_did")
    async def page(self, db_session: AsyncSession, agency: str | None = None) -> Template:
        rows = await WorkspaceService(db_session).delivered_publicly(agency or None)
        agencies = await AgencyService(session=db_session).catalogue()
        return Template("workspace/you_said_we_did.html", context={"rows": rows, "agencies": agencies,
                                                                    "chosen": agency or ""})


