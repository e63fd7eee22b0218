"""The agency's figures: per-theme volumes, trends and SLA for the dashboard (and its export and the
agency API), the top-level themes the dashboard shows them under, and the series behind the charts page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import and_, case, func, select

from voice.db import DomainService
from voice.feedback.models import Feedback, FeedbackKind
from voice.i18n import _, fmt_number, fmt_percent, get_locale
from voice.themes.edits import ThemeService
from voice.themes.groups import arrange, groups_of
from voice.themes.models import Theme, ThemeGroup, ThemeModel

STATS_TTL = 60.0
_STATS_CACHE: dict[tuple, tuple[float, list]] = {}
THEME_EXPORT_COLUMNS = ["theme", "top_level_theme", "keywords", "items", "last_7_days", "previous_7_days", "last_30_days",
                        "previous_30_days", "complaint_share", "average_rating", "open_past_due", "pinned"]


@dataclass
class ThemeStats:
    theme: Theme
    size: int
    last7: int
    prev7: int
    last30: int
    prev30: int
    complaint_share: float | None
    avg_rating: float | None
    overdue: int
    weekly: list[int]
    rated: int = 0  # items with a rating (the weight of avg_rating when figures are added up)


@dataclass
class TopTheme:
    """A card of the dashboard: a top-level theme with its sub-themes' figures added up. ``group`` is
    None for a theme no refresh has grouped yet (stored before top-level themes existed): it stands alone."""

    group: ThemeGroup | None
    label: str
    keywords: list[str]
    other: bool
    children: list[ThemeStats]
    size: int
    last7: int
    prev7: int
    last30: int
    prev30: int
    complaint_share: float | None
    avg_rating: float | None
    overdue: int
    weekly: list[int]

    @property
    def pinned(self) -> bool:
        return any(c.theme.pinned for c in self.children)


def top_level(stats: list[ThemeStats], groups: dict[int, ThemeGroup]) -> list[TopTheme]:
    """The dashboard's cards: sub-themes under their top-level theme (in ``stats``' order: pinned, then
    biggest), cards with a pinned sub-theme first, then biggest first, the "other" bucket always last.
    A top-level theme of one sub-theme reads as that theme (its name, with staff renames, and keywords)."""
    by_theme = {s.theme.id: s for s in stats}
    cards = []
    for group, themes in arrange([s.theme for s in stats], groups):
        children = [by_theme[t.id] for t in themes]
        other = group.other if group is not None else children[0].theme.other
        alone = len(children) == 1 and not other and (group is None or not group.renamed)
        size = sum(c.size for c in children)
        rated = sum(c.rated for c in children)
        cards.append(TopTheme(
            group=group, label=children[0].theme.label if alone or group is None else group.label,
            keywords=list((children[0].theme.keywords if alone or group is None else group.keywords) or []),
            other=other, children=children, size=size,
            last7=sum(c.last7 for c in children), prev7=sum(c.prev7 for c in children),
            last30=sum(c.last30 for c in children), prev30=sum(c.prev30 for c in children),
            complaint_share=sum((c.complaint_share or 0) * c.size for c in children) / size if size else None,
            avg_rating=sum((c.avg_rating or 0) * c.rated for c in children) / rated if rated else None,
            overdue=sum(c.overdue for c in children),
            weekly=[sum(week) for week in zip(*(c.weekly for c in children), strict=True)]))
    cards.sort(key=lambda c: (c.other, not c.pinned, -c.size))
    return cards


class DashboardService(DomainService[Theme]):
    class Repo(SQLAlchemyAsyncRepository[Theme]):
        model_type = Theme

    repository_type = Repo

    async def theme_stats(self, agency_id: int, weeks: int = 12) -> list[ThemeStats]:
        """Figures per theme, cached for a minute per process: they aggregate every item of the
        agency (~300 ms at 100k items) and are statistics, not a to-do list. New items, a new
        theme model or a staff edit change the cache key, so those show at once."""
        newest = await self.session.scalar(select(func.max(Feedback.created_at)).where(
            Feedback.agency_id == agency_id))
        edited = await self.session.scalar(select(func.max(Theme.updated_at)).where(Theme.agency_id == agency_id))
        model = await self.session.scalar(select(func.max(ThemeModel.updated_at)).where(
            ThemeModel.agency_id == agency_id))
        key = (agency_id, weeks, newest, edited, model)
        cached = _STATS_CACHE.get(key)
        if cached and time.monotonic() - cached[0] < STATS_TTL:
            return cached[1]
        stats = await self._theme_stats(agency_id, weeks)
        if len(_STATS_CACHE) > 256:
            _STATS_CACHE.clear()
        _STATS_CACHE[key] = (time.monotonic(), stats)
        return stats

    async def _theme_stats(self, agency_id: int, weeks: int) -> list[ThemeStats]:
        now = datetime.now(UTC)
        d7, d14, d30, d60 = (now - timedelta(days=n) for n in (7, 14, 30, 60))
        created = Feedback.created_at
        counts = (await self.session.execute(
            select(
                Feedback.theme_id,
                func.count(),
                func.count().filter(created >= d7),
                func.count().filter(and_(created >= d14, created < d7)),
                func.count().filter(created >= d30),
                func.count().filter(and_(created >= d60, created < d30)),
                func.avg(case((Feedback.kind == FeedbackKind.COMPLAINT, 1.0), else_=0.0)),
                func.avg(Feedback.rating),
                func.count().filter(Feedback.overdue(now)),
                func.count(Feedback.rating),
            ).where(Feedback.agency_id == agency_id, Feedback.theme_id.is_not(None)).group_by(Feedback.theme_id)
        )).all()
        start = now - timedelta(weeks=weeks)
        week = func.floor(func.extract("epoch", now - created) / (7 * 86400))
        weekly_rows = (await self.session.execute(
            select(Feedback.theme_id, week.label("w"), func.count()).where(
                Feedback.agency_id == agency_id, created >= start, Feedback.theme_id.is_not(None))
            .group_by(Feedback.theme_id, "w"))).all()
        weekly: dict[int, list[int]] = {}
        for theme_id, w, n in weekly_rows:
            series = weekly.setdefault(theme_id, [0] * weeks)
            idx = weeks - 1 - int(w)
            if 0 <= idx < weeks:
                series[idx] += n
        themes = {t.id: t for t in await ThemeService(session=self.session).active(agency_id)}
        out = []
        for row in counts:
            theme = themes.get(row[0])
            if theme is None:
                continue
            out.append(ThemeStats(theme=theme, size=row[1], last7=row[2], prev7=row[3], last30=row[4],
                                  prev30=row[5], complaint_share=float(row[6]) if row[6] is not None else None,
                                  avg_rating=float(row[7]) if row[7] is not None else None, overdue=row[8],
                                  weekly=weekly.get(theme.id, [0] * weeks), rated=row[9]))
        for theme in themes.values():  # pinned or empty themes still show
            if not any(s.theme.id == theme.id for s in out):
                out.append(ThemeStats(theme, 0, 0, 0, 0, 0, None, None, 0, [0] * weeks))
        out.sort(key=lambda s: (not s.theme.pinned, -s.size))
        return out

    async def top_themes(self, agency_id: int) -> list[TopTheme]:
        """The dashboard's cards (``top_level``) for the agency's feedback."""
        return top_level(await self.theme_stats(agency_id), await self.theme_groups(agency_id))

    async def theme_groups(self, agency_id: int) -> dict[int, ThemeGroup]:
        """The agency's top-level themes in service, by id."""
        return await groups_of(self.session, agency_id)

    async def unthemed_count(self, agency_id: int) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.agency_id == agency_id, Feedback.theme_id.is_(None))) or 0)

    async def theme_export_rows(self, agency_id: int) -> tuple[list[str], list[list[Any]]]:
        """The dashboard as a table for people, in the reader's language (as the inbox's export): translated
        column headers, the "other" bucket by its name, keywords joined as the language joins a list, counts,
        shares and ratings in the locale's digits, "yes"/"no" for a pin. The web layer writes it as CSV or
        XLSX; ``theme_data_rows`` is the same table for other systems."""
        groups = await self.theme_groups(agency_id)
        joiner = "، " if get_locale() == "ar" else ", "

        def top(theme: Theme) -> str:
            group = groups.get(theme.group_id) if theme.group_id is not None else None
            if group is None:
                return ""
            return _("Other") if group.other else group.label

        header = [_("Theme"), _("Top-level theme"), _("Keywords"), _("Items"), _("Last 7 days"),
                  _("The 7 days before"), _("Last 30 days"), _("The 30 days before"), _("Share of complaints"),
                  _("Average rating"), _("Open and past due"), _("Pinned")]
        rows = [[s.theme.label, top(s.theme), joiner.join(s.theme.keywords or []), fmt_number(s.size),
                 fmt_number(s.last7), fmt_number(s.prev7), fmt_number(s.last30), fmt_number(s.prev30),
                 fmt_percent(s.complaint_share) if s.complaint_share is not None else "",
                 fmt_number(s.avg_rating, 1) if s.avg_rating is not None else "", fmt_number(s.overdue),
                 _("Yes") if s.theme.pinned else _("No")]
                for s in await self.theme_stats(agency_id)]
        return header, rows

    async def theme_data_rows(self, agency_id: int) -> tuple[list[str], list[list[Any]]]:
        """The same table for other systems (``THEME_EXPORT_COLUMNS``): stable column names, numbers as
        numbers (shares as fractions), true/false for a pin, whatever the reader's language."""
        groups = await self.theme_groups(agency_id)
        rows = [[s.theme.label, groups[s.theme.group_id].label if s.theme.group_id in groups else "",
                 " ".join(s.theme.keywords or []), s.size, s.last7, s.prev7, s.last30, s.prev30,
                 round(s.complaint_share, 3) if s.complaint_share is not None else "",
                 round(s.avg_rating, 2) if s.avg_rating is not None else "", s.overdue, s.theme.pinned]
                for s in await self.theme_stats(agency_id)]
        return THEME_EXPORT_COLUMNS, rows

    async def response_hours(self, agency_id: int) -> list[float]:
        """Hours from arrival to the first answer, for every answered item of the agency."""
        rows = (await self.session.scalars(select(
            func.extract("epoch", Feedback.first_response_at - Feedback.created_at) / 3600.0).where(
            Feedback.agency_id == agency_id, Feedback.first_response_at.is_not(None)))).all()
        return [float(r) for r in rows]

    async def sla_by_month(self, agency_id: int, months: int = 12) -> list[tuple[str, int, int]]:
        """(month "YYYY-MM", items received, items answered by their due date) for recent months."""
        month = func.to_char(func.date_trunc("month", func.timezone("Asia/Riyadh", Feedback.created_at)), "YYYY-MM")
        on_time = func.count().filter(Feedback.first_response_at <= Feedback.due_at)
        rows = (await self.session.execute(select(month.label("m"), func.count(), on_time).where(
            Feedback.agency_id == agency_id,
            Feedback.created_at >= datetime.now(UTC) - timedelta(days=31 * months)).group_by("m").order_by("m"))).all()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]
