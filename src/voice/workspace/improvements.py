"""Improvements ("you said, we did"): what an agency changed because of what people said, linked to the
themes and items behind it; the people are told when it is delivered, and the public page shows it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import String, cast, func, select
from sqlalchemy.dialects.postgresql import insert

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import NotFound, ValidationFailed
from voice.feedback.models import Feedback
from voice.i18n import _
from voice.ids import parse_id
from voice.notifications.outbox import link, notify
from voice.text import clean_body
from voice.themes.models import Theme
from voice.workspace.access import agency_of
from voice.workspace.models import (
    Improvement,
    ImprovementKind,
    ImprovementStatus,
    improvement_feedback,
    improvement_theme,
)


class ImprovementService(DomainService[Improvement]):
    class Repo(SQLAlchemyAsyncRepository[Improvement]):
        model_type = Improvement

    repository_type = Repo

    async def save(self, user: User, data: dict[str, Any], improvement_id: int | None = None) -> Improvement:
        """Create (or, with ``improvement_id``, update) an improvement from form fields; when it becomes
        delivered, the people whose feedback it is linked to are e-mailed."""
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
            imp = await self.for_agency(user, improvement_id)
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

    async def for_agency(self, user: User, improvement_id: int) -> Improvement:
        stmt = select(Improvement).where(Improvement.id == improvement_id)
        if not user.is_admin:
            stmt = stmt.where(Improvement.agency_id == user.agency_id)
        imp = await self.session.scalar(stmt)
        if imp is None:
            raise NotFound(_("No such improvement in your agency."))
        return imp

    async def of_agency(self, agency_id: int) -> list[tuple[Improvement, int]]:
        """The agency's improvements, newest first, with how many items each is linked to."""
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


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]
