"""Who may see and change a consultation, the look-ups every consultations service uses, and the checks
on what staff write (one answer, "not found", for what does not exist and what the viewer may not see)."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.consultations.models import Consultation, ConsultationStatus
from voice.errors import Forbidden, NotFound, ValidationFailed
from voice.i18n import RIYADH, _, ngettext
from voice.text import clean_body

MAX_TITLE = 300
MAX_ARTICLES = 200
ARTICLE_NUMBERS = range(1, 10_000)
MAX_REASON = 2000


class ConsultationRepository(SQLAlchemyAsyncRepository[Consultation]):
    model_type = Consultation


def today() -> date:
    """Consultation windows are whole days in Riyadh."""
    return datetime.now(RIYADH).date()


def not_found() -> NotFound:
    return NotFound(_("We could not find this consultation."))


def may_manage(user: User | None, consultation: Consultation) -> bool:
    """Staff of the consulting agency, and platform administrators."""
    if user is None:
        return False
    return user.role is Role.ADMIN or (user.role.is_agency and user.agency_id == consultation.agency_id)


def require_staff(user: User | None) -> User:
    if user is None or not (user.role.is_agency or user.role is Role.ADMIN):
        raise Forbidden(_("Only agency staff run consultations."))
    return user


async def visible_consultation(session: AsyncSession, consultation_id: int, viewer: User | None) -> Consultation:
    """Published and closed consultations for everyone; drafts only for the agency's staff."""
    consultation = await session.scalar(select(Consultation).where(Consultation.id == consultation_id))
    if consultation is None or not (consultation.is_public or may_manage(viewer, consultation)):
        raise not_found()
    return consultation


async def managed_consultation(session: AsyncSession, consultation_id: int, user: User | None,
                               lock: bool = False) -> Consultation:
    """A consultation the user's agency runs (row-locked for a change when ``lock``)."""
    stmt = select(Consultation).where(Consultation.id == consultation_id)
    if lock:
        stmt = stmt.with_for_update(of=Consultation)
    consultation = await session.scalar(stmt)
    if consultation is None or not may_manage(user, consultation):
        raise not_found()
    return consultation


def window_ended(consultation: Consultation, on: date | None = None) -> bool:
    """Closed early, or published and past its last day."""
    return consultation.status is ConsultationStatus.CLOSED or (
        consultation.status is ConsultationStatus.PUBLISHED and consultation.closes_on < (on or today()))


def phase(consultation: Consultation, on: date | None = None) -> str:
    """draft, upcoming, open, ended (window over, report not yet published) or reported."""
    on = on or today()
    if consultation.status is ConsultationStatus.DRAFT:
        return "draft"
    if consultation.report_published_at is not None:
        return "reported"
    if window_ended(consultation, on):
        return "ended"
    return "upcoming" if on < consultation.opens_on else "open"


def parse_day(value: object, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationFailed(_("Please give a date as YYYY-MM-DD."), field=name) from None


def clean_line(value: object, name: str, limit: int = MAX_TITLE) -> str:
    text = clean_body(" ".join(str(value or "").split()), field=name)
    if len(text) > limit:
        raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", limit), field=name)
    return text


def optional_text(value: object, name: str, limit: int = MAX_REASON) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", limit), field=name)
    return clean_body(text, field=name)
