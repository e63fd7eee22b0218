"""Agency workspace operations. Every query is scoped to one agency (the member's, or any for admins)."""

from __future__ import annotations

import csv
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.catalogue.models import Agency, Service
from voice.errors import NotFound, ValidationFailed
from voice.feedback.models import Event, Feedback, FeedbackKind, Response, Status
from voice.feedback.services import FeedbackService
from voice.i18n import _
from voice.ids import parse_id
from voice.text import clean_body
from voice.themes.models import Theme
from voice.workspace.models import (
    BulkAnswer,
    Improvement,
    ImprovementKind,
    ImprovementStatus,
    Transfer,
    improvement_feedback,
    improvement_theme,
)

log = logging.getLogger(__name__)
OPEN = (Status.RECEIVED, Status.IN_REVIEW, Status.IN_PROGRESS)
STATS_TTL = 60.0
_STATS_CACHE: dict[tuple, tuple[float, list]] = {}
INBOX_PAGE = 50
SORTS = {
    "newest": (Feedback.created_at.desc(), Feedback.id.desc()),
    "oldest": (Feedback.created_at.asc(), Feedback.id.asc()),
    "due": (Feedback.due_at.asc(), Feedback.id.asc()),
    "rating": (Feedback.rating.asc().nulls_last(), Feedback.id.desc()),
    "support": (Feedback.supporters.desc(), Feedback.id.desc()),
}


def agency_of(user: User, requested: int | None = None) -> int:
    """The agency a request acts for: the member's own; a platform admin may name any."""
    if user.role is Role.ADMIN and requested:
        return requested
    if user.agency_id is None:
        raise NotFound(_("Your account is not attached to an agency."))
    return user.agency_id


@dataclass
class InboxFilters:
    theme: int | None = None
    status: str | None = None
    kind: str | None = None
    submitter_kind: str | None = None
    service: str | None = None
    overdue: bool = False
    rating: int | None = None
    assignee: int | None = None
    q: str | None = None
    sort: str = "newest"
    page: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


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


class WorkspaceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- inbox ----------------------------------------------------------------------------

    def inbox_query(self, agency_id: int, f: InboxFilters) -> Select:
        stmt = select(Feedback).where(Feedback.agency_id == agency_id)
        if f.theme:
            stmt = stmt.where(Feedback.theme_id == f.theme)
        if f.status in Status._value2member_map_:
            stmt = stmt.where(Feedback.status == Status(f.status))
        if f.kind in FeedbackKind._value2member_map_:
            stmt = stmt.where(Feedback.kind == FeedbackKind(f.kind))
        if f.submitter_kind in ("individual", "business", "government"):
            stmt = stmt.where(Feedback.submitter_kind == f.submitter_kind)
        if f.service:
            stmt = stmt.join(Service, Service.id == Feedback.service_id).where(Service.slug == f.service)
        if f.overdue:
            stmt = stmt.where(Feedback.status.in_(OPEN), Feedback.due_at < func.now())
        if f.rating:
            stmt = stmt.where(Feedback.rating == f.rating)
        if f.assignee:
            stmt = stmt.where(Feedback.assignee_id == f.assignee)
        if f.q:
            from voice.text import query_terms

            if terms := query_terms(f.q[:200]):
                stmt = stmt.where(Feedback.search_vector.op("@@")(func.plainto_tsquery("simple", terms)))
        return stmt.order_by(*SORTS.get(f.sort, SORTS["newest"]))

    async def inbox(self, agency_id: int, f: InboxFilters) -> tuple[list[Feedback], int]:
        stmt = self.inbox_query(agency_id, f)
        total = await self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        page = max(1, min(f.page, 10_000))
        rows = (await self.session.scalars(stmt.limit(INBOX_PAGE).offset((page - 1) * INBOX_PAGE))).all()
        return list(rows), int(total or 0)

    async def staff(self, agency_id: int) -> list[User]:
        return list((await self.session.scalars(select(User).where(
            User.agency_id == agency_id, User.is_active.is_(True)).order_by(User.full_name))).all())

    async def assign(self, user: User, feedback_id: int, assignee_id: int | None) -> Feedback:
        item = await FeedbackService(self.session).for_agency(user, feedback_id, lock=True)
        if assignee_id is not None:
            member = await self.session.scalar(select(User).where(
                User.id == assignee_id, User.agency_id == item.agency_id, User.is_active.is_(True)))
            if member is None:
                raise ValidationFailed(_("Choose a member of your agency."), field="assignee")
        item.assignee_id = assignee_id
        self.session.add(Event(feedback_id=item.id, kind="note", actor_id=user.id, agency_id=item.agency_id,
                               public=False, note=_("Assigned") if assignee_id else _("Unassigned")))
        await self.session.flush()
        return item

    async def add_note(self, user: User, feedback_id: int, text: str) -> Event:
        item = await FeedbackService(self.session).for_agency(user, feedback_id)
        note = clean_body(text, field="note")
        event = Event(feedback_id=item.id, kind="note", actor_id=user.id, agency_id=item.agency_id,
                      public=False, note=note)
        self.session.add(event)
        await self.session.flush()
        return event

    # ----- themes dashboard -----------------------------------------------------------------

    async def theme_stats(self, agency_id: int, weeks: int = 12) -> list[ThemeStats]:
        """Figures per theme, cached for a minute per process: they aggregate every item of the
        agency (~300 ms at 100k items) and are statistics, not a to-do list. New items, a new
        theme model or a staff edit change the cache key, so those show at once."""
        from voice.themes.models import ThemeModel

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
                func.count().filter(and_(Feedback.status.in_(OPEN), Feedback.due_at < now)),
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
        themes = {t.id: t for t in (await self.session.scalars(select(Theme).where(
            Theme.agency_id == agency_id, Theme.scope == "feedback", Theme.retired.is_(False)))).all()}
        out = []
        for row in counts:
            theme = themes.get(row[0])
            if theme is None:
                continue
            out.append(ThemeStats(theme=theme, size=row[1], last7=row[2], prev7=row[3], last30=row[4],
                                  prev30=row[5], complaint_share=float(row[6]) if row[6] is not None else None,
                                  avg_rating=float(row[7]) if row[7] is not None else None, overdue=row[8],
                                  weekly=weekly.get(theme.id, [0] * weeks)))
        for theme in themes.values():  # pinned or empty themes still show
            if not any(s.theme.id == theme.id for s in out):
                out.append(ThemeStats(theme, 0, 0, 0, 0, 0, None, None, 0, [0] * weeks))
        out.sort(key=lambda s: (not s.theme.pinned, -s.size))
        return out

    async def unthemed_count(self, agency_id: int) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Feedback).where(
            Feedback.agency_id == agency_id, Feedback.theme_id.is_(None))) or 0)

    # ----- bulk actions on a theme ----------------------------------------------------------

    async def theme_targets(self, user: User, theme_id: int, only_open: bool = True) -> tuple[Theme, list[Feedback]]:
        stmt = select(Theme).where(Theme.id == theme_id, Theme.scope == "feedback", Theme.retired.is_(False))
        if not user.is_admin:
            stmt = stmt.where(Theme.agency_id == user.agency_id)
        theme = await self.session.scalar(stmt)
        if theme is None:
            log.warning("theme %s refused to user %s", theme_id, user.id)
            raise NotFound(_("No such theme in your agency."))
        items = select(Feedback).where(Feedback.theme_id == theme.id, Feedback.agency_id == theme.agency_id)
        if only_open:
            items = items.where(Feedback.status.in_(OPEN))
        return theme, list((await self.session.scalars(items.order_by(Feedback.id))).all())

    async def preview(self, user: User, theme_id: int) -> dict[str, Any]:
        theme, items = await self.theme_targets(user, theme_id)
        people = {i.contact_email for i in items if i.contact_email}
        return {"theme": theme, "items": len(items), "people": len(people)}

    async def bulk_answer(self, user: User, theme_id: int, body: str, close: bool = False) -> BulkAnswer:
        """One public answer to every open item of the theme; each contact is e-mailed once per item."""
        theme, items = await self.theme_targets(user, theme_id)
        text = clean_body(body, field="body")
        if not items:
            raise ValidationFailed(_("This theme has no open items to answer."), field="body")
        bulk = BulkAnswer(agency_id=theme.agency_id, theme_id=theme.id, body=text, author_id=user.id,
                          item_count=len(items))
        self.session.add(bulk)
        await self.session.flush()
        feedback = FeedbackService(self.session)
        now = datetime.now(UTC)
        for item in items:
            self.session.add(Response(feedback_id=item.id, agency_id=item.agency_id, author_id=user.id, body=text,
                                      public=True, bulk_answer_id=bulk.id))
            self.session.add(Event(feedback_id=item.id, kind="answer", actor_id=user.id, agency_id=item.agency_id))
            if item.first_response_at is None:
                item.first_response_at = now
            if close:
                self.session.add(Event(feedback_id=item.id, kind="status", from_status=item.status.value,
                                       to_status=Status.RESOLVED.value, actor_id=user.id, agency_id=item.agency_id))
                item.status, item.resolved_at = Status.RESOLVED, now
            await feedback._notify(item, "answer", answer=text)
        await audit(self.session, "theme.bulk_answer", actor=user, target_type="theme", target_id=theme.id,
                    agency_id=theme.agency_id, items=len(items), close=close)
        await self.session.flush()
        return bulk

    async def bulk_status(self, user: User, theme_id: int, to: str, reason: str | None = None) -> int:
        """Move every open item of the theme that may make this move; returns how many moved."""
        _theme, items = await self.theme_targets(user, theme_id)
        feedback = FeedbackService(self.session)
        moved = 0
        for item in items:
            try:
                await feedback.change_status(user, item.id, to, reason)
                moved += 1
            except ValidationFailed:
                raise
            except Exception as exc:  # a Conflict for one item (wrong transition) skips only that item
                from voice.errors import Conflict

                if not isinstance(exc, Conflict):
                    raise
        return moved

    async def bulk_assign(self, user: User, theme_id: int, assignee_id: int | None) -> int:
        _theme, items = await self.theme_targets(user, theme_id)
        for item in items:
            await self.assign(user, item.id, assignee_id)
        return len(items)

    # ----- transfers ------------------------------------------------------------------------

    async def transfer(self, user: User, feedback_id: int, to_slug: str, reason: str) -> Transfer:
        item = await FeedbackService(self.session).for_agency(user, feedback_id, lock=True)
        target = await self.session.scalar(select(Agency).where(Agency.slug == to_slug, Agency.is_active.is_(True)))
        if target is None or target.id == item.agency_id:
            raise ValidationFailed(_("Choose another agency to transfer to."), field="agency")
        text = clean_body(reason, field="reason")
        now = datetime.now(UTC)
        transfer = Transfer(feedback_id=item.id, from_agency_id=item.agency_id, to_agency_id=target.id,
                            reason=text, actor_id=user.id)
        self.session.add(transfer)
        self.session.add(Event(feedback_id=item.id, kind="transfer", actor_id=user.id, agency_id=item.agency_id,
                               note=text, public=True))
        previous = item.agency_id
        # The receiving agency's SLA clock starts now; the item leaves the old agency's themes.
        item.agency_id, item.service_id, item.theme_id, item.assignee_id = target.id, None, None, None
        item.due_at = now + timedelta(days=target.sla_days)
        if item.status.is_closed:
            item.status, item.resolved_at = Status.RECEIVED, None
        await audit(self.session, "feedback.transfer", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=previous, to=target.slug)
        await self.session.flush()
        return transfer

    async def transfers(self, agency_id: int) -> list[Transfer]:
        return list((await self.session.scalars(select(Transfer).where(
            (Transfer.from_agency_id == agency_id) | (Transfer.to_agency_id == agency_id))
            .order_by(Transfer.created_at.desc()).limit(200))).all())

    # ----- improvements ---------------------------------------------------------------------

    async def save_improvement(self, user: User, data: dict[str, Any], improvement_id: int | None = None) -> Improvement:
        agency_id = agency_of(user)
        errors: dict[str, str] = {}
        title = " ".join(str(data.get("title", "")).split())
        if not 3 <= len(title) <= 200:
            errors["title"] = _("Give the improvement a title (3 to 200 characters).")
        try:
            kind = ImprovementKind(data.get("kind", ""))
        except ValueError:
            errors["kind"] = _("Choose what changed: a service, a policy, a regulation or a process.")
        try:
            status = ImprovementStatus(data.get("status") or "planned")
        except ValueError:
            errors["status"] = _("Unknown status.")
            status = ImprovementStatus.PLANNED
        description = str(data.get("description", "")).strip()
        if description:
            try:
                description = clean_body(description, field="description")
            except ValidationFailed as exc:
                errors.update(exc.errors)
        delivered_on = None
        raw_date = str(data.get("delivered_on") or "").strip()
        if raw_date:
            try:
                delivered_on = date.fromisoformat(raw_date)
            except ValueError:
                errors["delivered_on"] = _("Enter the date as YYYY-MM-DD.")
        if status is ImprovementStatus.DELIVERED and delivered_on is None and "delivered_on" not in errors:
            delivered_on = datetime.now(UTC).date()
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        if improvement_id:
            imp = await self.improvement(user, improvement_id)
            was_delivered = imp.status is ImprovementStatus.DELIVERED
        else:
            imp = Improvement(agency_id=agency_id, created_by_id=user.id, kind=kind, title=title)
            self.session.add(imp)
            was_delivered = False
        imp.kind, imp.title, imp.description, imp.status = kind, title, description, status
        imp.delivered_on = delivered_on if status is ImprovementStatus.DELIVERED else None
        await self.session.flush()
        theme_ids = [i for i in map(parse_id, _as_list(data.get("themes"))) if i is not None]
        feedback_ids = [i for i in map(parse_id, _as_list(data.get("feedback"))) if i is not None]
        await self._link(imp, theme_ids, feedback_ids)
        await audit(self.session, "improvement.save", actor=user, target_type="improvement", target_id=imp.id,
                    agency_id=imp.agency_id, status=status.value)
        if status is ImprovementStatus.DELIVERED and not was_delivered:
            await self._notify_delivered(imp)
        return imp

    async def _link(self, imp: Improvement, theme_ids: list[int], feedback_ids: list[int]) -> None:
        from sqlalchemy.dialects.postgresql import insert

        if theme_ids:
            own = (await self.session.scalars(select(Theme.id).where(
                Theme.id.in_(theme_ids), Theme.agency_id == imp.agency_id))).all()
            if own:
                await self.session.execute(insert(improvement_theme).values(
                    [{"improvement_id": imp.id, "theme_id": t} for t in own]).on_conflict_do_nothing())
            # Linking a theme links the items in it today, so the count is people, not clusters.
            members = (await self.session.scalars(select(Feedback.id).where(
                Feedback.theme_id.in_(own), Feedback.agency_id == imp.agency_id))).all() if own else []
            feedback_ids = [*feedback_ids, *members]
        if feedback_ids:
            own_items = (await self.session.scalars(select(Feedback.id).where(
                Feedback.id.in_(feedback_ids), Feedback.agency_id == imp.agency_id))).all()
            if own_items:
                await self.session.execute(insert(improvement_feedback).values(
                    [{"improvement_id": imp.id, "feedback_id": f} for f in set(own_items)]).on_conflict_do_nothing())

    async def _notify_delivered(self, imp: Improvement) -> None:
        from voice.notifications.outbox import link, notify

        rows = (await self.session.execute(select(Feedback.id, Feedback.contact_email, Feedback.tracking_code)
                                           .join(improvement_feedback, improvement_feedback.c.feedback_id == Feedback.id)
                                           .where(improvement_feedback.c.improvement_id == imp.id,
                                                  Feedback.contact_email.is_not(None)))).all()
        url = link("/you-said-we-did")
        for feedback_id, email, code in rows:
            await notify(self.session, email, subject=lambda: _("You said, we did"), feedback_id=feedback_id,
                         body=lambda code=code: _("Your feedback %(code)s helped change something: %(title)s.",
                                                  code=code, title=imp.title)
                         + "\n" + _("See what changed: %(link)s", link=url))

    async def improvement(self, user: User, improvement_id: int) -> Improvement:
        stmt = select(Improvement).where(Improvement.id == improvement_id)
        if not user.is_admin:
            stmt = stmt.where(Improvement.agency_id == user.agency_id)
        imp = await self.session.scalar(stmt)
        if imp is None:
            raise NotFound(_("No such improvement in your agency."))
        return imp

    async def improvements(self, agency_id: int) -> list[tuple[Improvement, int]]:
        linked = (select(func.count()).select_from(improvement_feedback)
                  .where(improvement_feedback.c.improvement_id == Improvement.id).scalar_subquery())
        rows = (await self.session.execute(select(Improvement, linked).where(Improvement.agency_id == agency_id)
                                           .order_by(Improvement.created_at.desc()))).all()
        return [(r[0], int(r[1])) for r in rows]

    async def delivered_publicly(self, agency_slug: str | None = None, limit: int = 100) -> list[tuple[Improvement, int]]:
        """Delivered improvements with how many people's feedback led to each (distinct submitters)."""
        # A person is a signed-in account, else a contact e-mail, else the anonymous item itself.
        person = func.coalesce("u" + cast(Feedback.user_id, String), "e" + Feedback.contact_email,
                               "f" + cast(Feedback.id, String))
        people = (select(func.count(func.distinct(person)))
            .select_from(improvement_feedback).join(Feedback, Feedback.id == improvement_feedback.c.feedback_id)
            .where(improvement_feedback.c.improvement_id == Improvement.id).scalar_subquery())
        stmt = select(Improvement, people).where(Improvement.status == ImprovementStatus.DELIVERED)
        if agency_slug:
            stmt = stmt.join(Agency, Agency.id == Improvement.agency_id).where(Agency.slug == agency_slug)
        rows = (await self.session.execute(stmt.order_by(Improvement.delivered_on.desc().nulls_last(),
                                                         Improvement.id.desc()).limit(limit))).all()
        return [(r[0], int(r[1] or 0)) for r in rows]

    # ----- exports --------------------------------------------------------------------------

    async def export_rows(self, agency_id: int, f: InboxFilters) -> tuple[list[str], list[list[Any]]]:
        stmt = self.inbox_query(agency_id, f).limit(100_000)
        items = (await self.session.scalars(stmt)).all()
        themes = {t.id: t.label for t in (await self.session.scalars(
            select(Theme).where(Theme.agency_id == agency_id))).all()}
        header = ["tracking_code", "received_at", "kind", "submitter_kind", "channel", "service", "theme", "status",
                  "rating", "due_at", "first_response_at", "resolved_at", "satisfaction", "text"]
        rows = [[i.tracking_code, i.created_at.isoformat(), i.kind.value, i.submitter_kind.value, i.channel.value,
                 i.service.slug if i.service else "", themes.get(i.theme_id, ""), i.status.value, i.rating or "",
                 i.due_at.isoformat(), i.first_response_at.isoformat() if i.first_response_at else "",
                 i.resolved_at.isoformat() if i.resolved_at else "", i.satisfaction or "", i.body]
                for i in items]
        return header, rows

    async def theme_export_rows(self, agency_id: int) -> tuple[list[str], list[list[Any]]]:
        stats = await self.theme_stats(agency_id)
        header = ["theme", "keywords", "items", "last_7_days", "previous_7_days", "last_30_days",
                  "previous_30_days", "complaint_share", "average_rating", "open_past_due", "pinned"]
        rows = [[s.theme.label, " ".join(s.theme.keywords or []), s.size, s.last7, s.prev7, s.last30, s.prev30,
                 round(s.complaint_share, 3) if s.complaint_share is not None else "",
                 round(s.avg_rating, 2) if s.avg_rating is not None else "", s.overdue, s.theme.pinned]
                for s in stats]
        return header, rows

    # ----- charts ---------------------------------------------------------------------------

    async def response_times(self, agency_id: int) -> list[float]:
        rows = (await self.session.scalars(select(
            func.extract("epoch", Feedback.first_response_at - Feedback.created_at) / 3600.0).where(
            Feedback.agency_id == agency_id, Feedback.first_response_at.is_not(None)))).all()
        return [float(r) for r in rows]

    async def sla_by_month(self, agency_id: int, months: int = 12) -> list[tuple[str, int, int]]:
        month = func.to_char(func.date_trunc("month", Feedback.created_at), "YYYY-MM")
        on_time = func.count().filter(Feedback.first_response_at <= Feedback.due_at)
        rows = (await self.session.execute(select(month.label("m"), func.count(), on_time).where(
            Feedback.agency_id == agency_id,
            Feedback.created_at >= datetime.now(UTC) - timedelta(days=31 * months)).group_by("m").order_by("m"))).all()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        # A leading =, +, - or @ would make a spreadsheet run the cell as a formula (CSV injection).
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM lets Excel read Arabic as UTF-8


def to_xlsx(header: list[str], rows: list[list[Any]], sheet: str = "Voice") -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = book.add_worksheet(sheet[:31])
    ws.right_to_left()
    bold = book.add_format({"bold": True})
    ws.write_row(0, 0, header, bold)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    book.close()
    return buf.getvalue()


