"""The agency's inbox: its items filtered and sorted (also what exports hold), its staff, and the
triage steps that are not the item's life cycle (assigning someone, internal notes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Select, func, select

from voice.accounts.models import SubmitterKind, User
from voice.catalogue.models import Service
from voice.db import DomainService
from voice.errors import ValidationFailed
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Event, Feedback, FeedbackKind, Status
from voice.i18n import _, fmt_date, fmt_number, get_locale
from voice.labels import label
from voice.text import clean_body, query_terms
from voice.themes.models import Theme

INBOX_PAGE = 50
EXPORT_LIMIT = 100_000
SORTS = {
    "newest": (Feedback.created_at.desc(), Feedback.id.desc()),
    "oldest": (Feedback.created_at.asc(), Feedback.id.asc()),
    "due": (Feedback.due_at.asc(), Feedback.id.asc()),
    "rating": (Feedback.rating.asc().nulls_last(), Feedback.id.desc()),
    "support": (Feedback.supporters.desc(), Feedback.id.desc()),
}
EXPORT_COLUMNS = ["tracking_code", "received_at", "kind", "submitter_kind", "channel", "service", "theme", "status",
                  "rating", "due_at", "first_response_at", "resolved_at", "satisfaction", "text"]


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


class InboxService(DomainService[Feedback]):
    class Repo(SQLAlchemyAsyncRepository[Feedback]):
        model_type = Feedback

    repository_type = Repo

    def query(self, agency_id: int, f: InboxFilters) -> Select:
        stmt = select(Feedback).where(Feedback.agency_id == agency_id)
        if f.theme:
            stmt = stmt.where(Feedback.theme_id == f.theme)
        if f.status in Status._value2member_map_:
            stmt = stmt.where(Feedback.status == Status(f.status))
        if f.kind in FeedbackKind._value2member_map_:
            stmt = stmt.where(Feedback.kind == FeedbackKind(f.kind))
        if f.submitter_kind in SubmitterKind._value2member_map_:
            stmt = stmt.where(Feedback.submitter_kind == f.submitter_kind)
        if f.service:
            stmt = stmt.join(Service, Service.id == Feedback.service_id).where(Service.slug == f.service)
        if f.overdue:
            stmt = stmt.where(Feedback.overdue(func.now()))
        if f.rating:
            stmt = stmt.where(Feedback.rating == f.rating)
        if f.assignee:
            stmt = stmt.where(Feedback.assignee_id == f.assignee)
        if f.q and (terms := query_terms(f.q[:200])):
            stmt = stmt.where(Feedback.search_vector.op("@@")(func.plainto_tsquery("simple", terms)))
        return stmt.order_by(*SORTS.get(f.sort, SORTS["newest"]))

    async def inbox(self, agency_id: int, f: InboxFilters) -> tuple[list[Feedback], int]:
        stmt = self.query(agency_id, f)
        total = await self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        page = max(1, min(f.page, 10_000))
        rows = (await self.session.scalars(stmt.limit(INBOX_PAGE).offset((page - 1) * INBOX_PAGE))).all()
        return list(rows), int(total or 0)

    async def _exported(self, agency_id: int, f: InboxFilters) -> tuple[list[Feedback], dict[int, str]]:
        items = (await self.session.scalars(self.query(agency_id, f).limit(EXPORT_LIMIT))).all()
        themes = {t.id: t.label for t in (await self.session.scalars(
            select(Theme).where(Theme.agency_id == agency_id))).all()}
        return list(items), themes

    async def export_rows(self, agency_id: int, f: InboxFilters) -> tuple[list[str], list[list[Any]]]:
        """The filtered inbox as a table for people, in the reader's language: translated column headers,
        kinds, channels and statuses by their labels, service names, and dates in the one date format (Riyadh
        time, Hijri beside, the locale's digits) instead of codes and UTC instants. The web layer writes it
        as CSV or XLSX."""
        items, themes = await self._exported(agency_id, f)
        lang = get_locale()

        def count(value: int | None) -> str:
            return fmt_number(value) if value is not None else ""

        def when(value: datetime | None) -> str:
            return fmt_date(value, "short") if value is not None else ""

        header = [_("Tracking code"), _("Received on"), _("Kind"), _("Submitter type"), _("Channel"), _("E-service"),
                  _("Theme"), _("Status"), _("Rating"), _("Due"), _("First answered on"), _("Resolved on"),
                  _("Satisfaction with the answer"), _("Feedback")]
        rows = [[i.tracking_code, when(i.created_at), label(i.kind), label(i.submitter_kind), label(i.channel),
                 i.service.name(lang) if i.service else "", themes.get(i.theme_id, ""), label(i.status),
                 count(i.rating), when(i.due_at), when(i.first_response_at), when(i.resolved_at),
                 count(i.satisfaction), i.body]
                for i in items]
        return header, rows

    async def data_rows(self, agency_id: int, f: InboxFilters) -> tuple[list[str], list[list[Any]]]:
        """The same table for other systems (``EXPORT_COLUMNS``): stable column names, coded values, numbers
        as numbers and ISO 8601 instants in UTC, whatever the reader's language."""
        items, themes = await self._exported(agency_id, f)
        rows = [[i.tracking_code, i.created_at.isoformat(), i.kind.value, i.submitter_kind.value, i.channel.value,
                 i.service.slug if i.service else "", themes.get(i.theme_id, ""), i.status.value, i.rating or "",
                 i.due_at.isoformat(), i.first_response_at.isoformat() if i.first_response_at else "",
                 i.resolved_at.isoformat() if i.resolved_at else "", i.satisfaction or "", i.body]
                for i in items]
        return EXPORT_COLUMNS, rows

    async def staff(self, agency_id: int) -> list[User]:
        """The agency's active members, by name: who an item can be assigned to."""
        return list((await self.session.scalars(select(User).where(
            User.agency_id == agency_id, User.is_active.is_(True)).order_by(User.full_name))).all())

    async def assign(self, user: User, feedback_id: int, assignee_id: int | None) -> Feedback:
        item = await LifecycleService(session=self.session).for_agency(user, feedback_id, lock=True)
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
        item = await LifecycleService(session=self.session).for_agency(user, feedback_id)
        note = clean_body(text, field="note")
        event = Event(feedback_id=item.id, kind="note", actor_id=user.id, agency_id=item.agency_id,
                      public=False, note=note)
        self.session.add(event)
        await self.session.flush()
        return event
