"""Transfers: a misrouted item moves to the agency it belongs to, with the reason; both keep the record."""

from __future__ import annotations

from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import ValidationFailed
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.models import Event, Feedback, Status
from voice.feedback.rules import due_at
from voice.i18n import _, fmt_date, get_locale
from voice.labels import label
from voice.text import clean_body
from voice.workspace.models import Transfer


class TransferService(DomainService[Transfer]):
    class Repo(SQLAlchemyAsyncRepository[Transfer]):
        model_type = Transfer

    repository_type = Repo

    async def transfer(self, user: User, feedback_id: int, to_slug: str, reason: str) -> Transfer:
        item = await LifecycleService(session=self.session).for_agency(user, feedback_id, lock=True)
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
        item.due_at = due_at(now, target.sla_for(item.kind))  # its SLA for this kind
        if item.status.is_closed:
            item.status, item.resolved_at = Status.RECEIVED, None
        await audit(self.session, "feedback.transfer", actor=user, target_type="feedback", target_id=item.id,
                    agency_id=previous, to=target.slug)
        await self.session.flush()
        return transfer

    async def for_agency(self, agency_id: int) -> list[Transfer]:
        """The agency's transfers, in and out, newest first."""
        return list((await self.session.scalars(select(Transfer).where(
            (Transfer.from_agency_id == agency_id) | (Transfer.to_agency_id == agency_id))
            .order_by(Transfer.created_at.desc()).limit(200))).all())

    async def export_rows(self, agency_id: int) -> tuple[list[str], list[list[str]]]:
        """The agency's transfers as a table for people, in the reader's language: translated column headers,
        agency names, the item's status label and dates in the one date format (Riyadh time, Gregorian with
        Hijri, the locale's digits), never codes or UTC instants. The web layer writes it as CSV or XLSX
        (safe from formula injection)."""
        transfers = await self.for_agency(agency_id)
        items = {f.id: f for f in (await self.session.scalars(select(Feedback).where(
            Feedback.id.in_({t.feedback_id for t in transfers})))).all()} if transfers else {}
        lang = get_locale()
        header = [_("Date"), _("Direction"), _("From agency"), _("To agency"), _("Tracking code"),
                  _("Current status"), _("Reason")]
        rows = []
        for t in transfers:
            item = items.get(t.feedback_id)
            rows.append([fmt_date(t.created_at, "short"),
                         _("Sent") if t.from_agency_id == agency_id else _("Received"),
                         t.from_agency.name(lang), t.to_agency.name(lang),
                         item.tracking_code if item else "", label(item.status) if item else "", t.reason])
        return header, rows
