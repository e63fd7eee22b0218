"""The agency's exports (the inbox, the themes dashboard and the transfers as CSV or XLSX) and its charts page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from litestar import Request, Response, get
from litestar.response import Template
from markupsafe import Markup

from voice.errors import NotFound
from voice.i18n import RIYADH, _, fmt_day_month, fmt_month
from voice.web import charts
from voice.web.exports import download
from voice.workspace.access import agency_of
from voice.workspace.controllers.base import WorkspacePages
from voice.workspace.controllers.inbox import inbox_filters
from voice.workspace.dashboard import DashboardService
from voice.workspace.inbox import InboxService
from voice.workspace.transfers import TransferService


class ReportPages(WorkspacePages):

    @get("/export/{what:str}", name="export")
    async def export(self, request: Request, what: str, inbox: InboxService,
                     dashboard: DashboardService, transfers: TransferService) -> Response[bytes]:
        """``what`` is "<table>.<format>": inbox (for people) or inbox-data (for systems), both with the inbox's
        filters, themes (for people) or themes-data (for systems), or transfers, as csv or xlsx."""
        agency_id = agency_of(request.user)
        name, _dot, fmt = what.partition(".")
        if name == "inbox":
            header, rows = await inbox.export_rows(agency_id, inbox_filters(request))
        elif name == "inbox-data":  # for other systems: codes and UTC instants, not words
            header, rows = await inbox.data_rows(agency_id, inbox_filters(request))
        elif name == "themes":
            header, rows = await dashboard.theme_export_rows(agency_id)
        elif name == "themes-data":  # for other systems: column codes and plain numbers, not words
            header, rows = await dashboard.theme_data_rows(agency_id)
        elif name == "transfers":
            header, rows = await transfers.export_rows(agency_id)
        else:
            raise NotFound(_("Unknown export."))
        return download(name, fmt, header, rows)

    @get("/charts", name="charts")
    async def charts_page(self, request: Request, dashboard: DashboardService) -> Template:
        agency_id = agency_of(request.user)
        stats = (await dashboard.theme_stats(agency_id))[:6]
        weeks = [fmt_day_month((datetime.now(UTC) - timedelta(weeks=11 - i)).astimezone(RIYADH).date())
                 for i in range(12)]
        volume = charts.lines({s.theme.label: s.weekly for s in stats}, weeks, _("Feedback per theme, by week"))
        hours = await dashboard.response_hours(agency_id)
        by_month = {m[0]: m for m in await dashboard.sla_by_month(agency_id)}
        months = _last_months(12)  # every month, those without feedback too
        labels = [(name, year if m.month == 1 or i == 0 else "") for i, m in enumerate(months)
                  for name, year in [fmt_month(m)]]
        values = [round(100 * row[2] / row[1]) if (row := by_month.get(f"{m:%Y-%m}")) and row[1] else None
                  for m in months]
        sla_chart = charts.bars(labels, values, _("Share answered within the SLA, by month"), unit="%",
                                max_value=100)
        return Template("workspace/charts.html", context={
            "volume": volume, "response_chart": _response_chart(hours), "sla_chart": sla_chart,
            "answered": len(hours)})


def _last_months(n: int) -> list[date]:
    """The first day of each of the last n months, oldest first, this month last (Riyadh time)."""
    today = datetime.now(UTC).astimezone(RIYADH).date()
    out = []
    year, month = today.year, today.month
    for _i in range(n):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _response_chart(hours: list[float]) -> Markup:
    """Answered items counted by time to first answer, in buckets a person reads at a glance."""
    buckets = [(_("<1 day"), 24), (_("1–3 days"), 72), (_("3–7 days"), 168), (_("1–2 weeks"), 336),
               (_(">2 weeks"), float("inf"))]
    counts, low = [], 0.0
    for _label, high in buckets:
        counts.append(sum(1 for h in hours if low <= h < high))
        low = high
    return charts.bars([b[0] for b in buckets], counts, _("Time to first answer"))
