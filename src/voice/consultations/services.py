"""Running a consultation: staff draft it (title, summary, numbered articles, audience, window), publish
it, extend it or close it early with a reason; everyone lists and reads the public ones.

What people do on a consultation lives in ``voice.consultations.participation``; what staff read from the
comments in ``voice.consultations.insights``; the response report in ``voice.consultations.response``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import audit
from voice.attachments.checks import Kind, Upload
from voice.attachments.models import Attachment
from voice.attachments.services import AttachmentService
from voice.catalogue.models import Agency
from voice.consultations.access import (
    ARTICLE_NUMBERS,
    MAX_ARTICLES,
    ConsultationRepository,
    clean_line,
    managed_consultation,
    optional_text,
    parse_day,
    require_staff,
    today,
    visible_consultation,
    window_ended,
)
from voice.consultations.models import ATTACHMENT_OWNER, Consultation, ConsultationArticle, ConsultationStatus
from voice.db import DomainService
from voice.errors import Conflict, ValidationFailed
from voice.i18n import _, ngettext
from voice.text import clean_body, public_text

AUDIENCES = tuple(k.value for k in SubmitterKind)


@dataclass
class ArticleDraft:
    number: Any
    title: str = ""
    text: str = ""


@dataclass
class ConsultationDraft:
    """What staff send, as raw values from a form or JSON; validated by ``create`` and ``update``."""

    title_ar: str
    summary_ar: str
    opens_on: Any
    closes_on: Any
    articles: list[ArticleDraft] = field(default_factory=list)
    title_en: str | None = None
    summary_en: str | None = None
    audience: list[str] | None = None
    # The slug of the agency that consults: a platform administrator belongs to no agency and must name
    # one; staff may leave it out or name their own.
    agency: str | None = None


def _guard(errors: dict[str, str], name: str, check: Any) -> Any:
    try:
        return check()
    except ValidationFailed as exc:
        errors.update(exc.errors or {name: exc.message})
        return None


def validate(draft: ConsultationDraft) -> dict[str, Any]:
    """The draft's cleaned values; every problem at once in one ValidationFailed."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title_ar": _guard(errors, "title_ar", lambda: clean_line(draft.title_ar, "title_ar")),
        "summary_ar": _guard(errors, "summary_ar", lambda: clean_body(draft.summary_ar, field="summary_ar")),
        "title_en": _guard(errors, "title_en", lambda: clean_line(draft.title_en, "title_en")
                           if (draft.title_en or "").strip() else None),
        "summary_en": _guard(errors, "summary_en", lambda: optional_text(draft.summary_en, "summary_en", 5000)),
        "opens_on": _guard(errors, "opens_on", lambda: parse_day(draft.opens_on, "opens_on")),
        "closes_on": _guard(errors, "closes_on", lambda: parse_day(draft.closes_on, "closes_on")),
    }
    if values["opens_on"] and values["closes_on"] and values["closes_on"] < values["opens_on"]:
        errors["closes_on"] = _("The closing date must come on or after the opening date.")
    audience = [a for a in AUDIENCES if a in set(draft.audience or AUDIENCES)]
    if draft.audience is not None and (not audience or set(draft.audience) - set(AUDIENCES)):
        errors["audience"] = _("Choose who is consulted: individuals, businesses, government bodies.")
    values["audience"] = audience
    articles: list[dict[str, Any]] = []
    seen: set[int] = set()
    if not draft.articles:
        errors["articles"] = _("Add at least one article.")
    elif len(draft.articles) > MAX_ARTICLES:
        errors["articles"] = ngettext("A consultation holds at most %(num)s article.", "A consultation holds at most %(num)s articles.", MAX_ARTICLES)
    for position, article in enumerate(draft.articles[:MAX_ARTICLES]):
        try:
            number = int(str(article.number).strip())
        except ValueError:
            number = 0
        if number not in ARTICLE_NUMBERS or number in seen:
            errors["articles"] = _("Each article needs its own number (1 to 9999).")
            continue
        seen.add(number)
        body = _guard(errors, "articles", lambda a=article: clean_body(a.text, field="articles"))
        title = _guard(errors, "articles", lambda a=article: clean_line(a.title, "articles")
                       if (a.title or "").strip() else "")
        articles.append({"number": number, "position": position, "title": title or "", "body": body or ""})
    values["articles"] = articles
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors=errors)
    return values


class ConsultationService(DomainService[Consultation]):
    repository_type = ConsultationRepository

    # ----- staff --------------------------------------------------------------------------

    async def agencies_to_name(self, user: User | None) -> list[Agency]:
        """The agencies ``user`` chooses among when drafting: every active one for an administrator (who
        belongs to none and must name one, see ``create``); none for agency staff (theirs is implied)."""
        if user is None or user.role is not Role.ADMIN:
            return []
        return list(await self.session.scalars(select(Agency).where(Agency.is_active.is_(True))
                                               .order_by(Agency.name_ar)))

    async def create(self, user: User | None, draft: ConsultationDraft) -> Consultation:
        staff = require_staff(user)
        errors: dict[str, str] = {}  # every problem at once: the agency's with the draft's
        values: dict[str, Any] = {}
        agency_id: int | None = None
        try:
            values = validate(draft)
        except ValidationFailed as exc:
            errors.update(exc.errors or {"form": exc.message})
        try:
            agency_id = await self._consulting(staff, draft)
        except ValidationFailed as exc:
            errors.update(exc.errors or {"agency": exc.message})
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        articles = values.pop("articles")
        consultation = Consultation(agency_id=agency_id, created_by_id=staff.id, status=ConsultationStatus.DRAFT,
                                    **values)
        consultation.articles = [ConsultationArticle(**a) for a in articles]
        self.session.add(consultation)
        await self.session.flush()
        await audit(self.session, "consultation.create", actor=staff, target_type="consultation",
                    target_id=consultation.id, agency_id=agency_id)
        await self.session.refresh(consultation)
        return consultation

    async def _consulting(self, staff: User, draft: ConsultationDraft) -> int:
        """The agency a new draft belongs to. Staff draft for their own agency (naming it changes nothing,
        naming another is refused); a platform administrator, whose account belongs to no agency, names the
        active agency it drafts for."""
        slug = (draft.agency or "").strip()[:64]
        if staff.role is not Role.ADMIN:
            if staff.agency_id is None:
                raise ValidationFailed(_("Choose the agency that consults."), field="agency")
            own = await self.session.scalar(select(Agency.slug).where(Agency.id == staff.agency_id))
            if slug and slug != own:
                raise ValidationFailed(_("You can draft consultations for your own agency only: leave the "
                                         "agency out, or name your own."), field="agency")
            return staff.agency_id
        if not slug:
            raise ValidationFailed(_("Name the agency that consults: a platform administrator belongs to no "
                                     "agency."), field="agency")
        agency_id = await self.session.scalar(select(Agency.id).where(Agency.slug == slug,
                                                                     Agency.is_active.is_(True)))
        if agency_id is None:
            raise ValidationFailed(_("No active agency has this slug."), field="agency")
        return agency_id

    async def update(self, user: User | None, consultation_id: int, draft: ConsultationDraft) -> Consultation:
        """Rewrite a draft (title, summary, audience, window, articles); published ones only extend."""
        consultation = await managed_consultation(self.session, consultation_id, user, lock=True)
        if consultation.status is not ConsultationStatus.DRAFT:
            raise Conflict(_("A published consultation cannot be rewritten; extend or close it instead."))
        values = validate(draft)
        articles = {a["number"]: a for a in values.pop("articles")}
        for key, value in values.items():
            setattr(consultation, key, value)
        kept = []
        for article in consultation.articles:
            new = articles.pop(article.number, None)
            if new is not None:
                article.title, article.body, article.position = new["title"], new["body"], new["position"]
                kept.append(article)
        kept += [ConsultationArticle(**a) for a in articles.values()]
        consultation.articles = sorted(kept, key=lambda a: a.position)
        await self.session.flush()
        await audit(self.session, "consultation.update", actor=user, target_type="consultation",
                    target_id=consultation.id, agency_id=consultation.agency_id)
        return consultation

    async def publish(self, user: User | None, consultation_id: int) -> Consultation:
        consultation = await managed_consultation(self.session, consultation_id, user, lock=True)
        if consultation.status is not ConsultationStatus.DRAFT:
            raise Conflict(_("This consultation is already published."))
        if consultation.closes_on < today():
            # The request is fine; the draft's own closing day is what stands in the way.
            raise Conflict(_("The closing date has passed: choose a later one before publishing."),
                           field="closes_on")
        consultation.status, consultation.published_at = ConsultationStatus.PUBLISHED, datetime.now(UTC)
        await self.session.flush()
        await audit(self.session, "consultation.publish", actor=user, target_type="consultation",
                    target_id=consultation.id, agency_id=consultation.agency_id)
        return consultation

    async def extend(self, user: User | None, consultation_id: int, closes_on: Any) -> Consultation:
        consultation = await managed_consultation(self.session, consultation_id, user, lock=True)
        new_day = parse_day(closes_on, "closes_on")
        if consultation.status is ConsultationStatus.CLOSED or consultation.report_published_at:
            raise Conflict(_("This consultation is closed."))
        if new_day <= consultation.closes_on or new_day < today():
            raise ValidationFailed(_("Choose a closing date later than the current one."), field="closes_on")
        consultation.closes_on = new_day
        await self.session.flush()
        await audit(self.session, "consultation.extend", actor=user, target_type="consultation",
                    target_id=consultation.id, agency_id=consultation.agency_id, closes_on=new_day.isoformat())
        return consultation

    async def close(self, user: User | None, consultation_id: int, reason: str | None = None) -> Consultation:
        """Close now; before the last day this is closing early and needs a reason, shown publicly."""
        consultation = await managed_consultation(self.session, consultation_id, user, lock=True)
        if consultation.status is ConsultationStatus.DRAFT:
            raise Conflict(_("A draft is not open: publish it first."))
        if consultation.status is ConsultationStatus.CLOSED:
            raise Conflict(_("This consultation is already closed."))
        text = optional_text(reason, "reason")
        early = not window_ended(consultation)
        if early and not text:
            raise ValidationFailed(_("Closing before the last day needs a reason."), field="reason")
        consultation.status, consultation.closed_at = ConsultationStatus.CLOSED, datetime.now(UTC)
        consultation.close_reason = public_text(text) if text else None
        await self.session.flush()
        await audit(self.session, "consultation.close", actor=user, target_type="consultation",
                    target_id=consultation.id, agency_id=consultation.agency_id, reason=text, early=early)
        return consultation

    async def for_agency(self, user: User | None) -> list[Consultation]:
        staff = require_staff(user)
        stmt = select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())
        if staff.role is not Role.ADMIN:
            stmt = stmt.where(Consultation.agency_id == staff.agency_id)
        return list((await self.session.scalars(stmt.limit(500))).unique().all())

    async def managed(self, user: User | None, consultation_id: int) -> Consultation:
        return await managed_consultation(self.session, consultation_id, user)

    async def attach_draft(self, user: User | None, consultation_id: int, upload: Upload | None,
                           attachments: AttachmentService) -> Attachment:
        """The full draft as a PDF (PDF only), replacing any earlier one. It is a public document by nature:
        published with the consultation, so nobody outside the agency can read it while it is a draft."""
        c = await self.managed(user, consultation_id)
        if upload is None:
            raise ValidationFailed(_("Choose a PDF file of the full draft."), field="draft_document")
        clean = await attachments.check(upload, (Kind.PDF,), "draft_document")
        await attachments.remove_for_owner(ATTACHMENT_OWNER, c.id)
        row = await attachments.add(clean, owner_kind=ATTACHMENT_OWNER, owner_id=c.id, uploaded_by=user,
                                    title=c.title_ar)
        row.published, row.published_by_id, row.published_at = True, user.id if user else None, datetime.now(UTC)
        c.draft_document = str(row.id)
        await self.session.flush()
        await audit(self.session, "consultation.draft_document", actor=user, target_type="consultation",
                    target_id=c.id, attachment=row.id)
        return row

    # ----- everyone -----------------------------------------------------------------------

    async def public(self, agency_id: int | None = None, limit: int = 200) -> list[Consultation]:
        """Published and closed consultations, open ones first, then the newest."""
        stmt = select(Consultation).where(Consultation.status != ConsultationStatus.DRAFT)
        if agency_id:
            stmt = stmt.where(Consultation.agency_id == agency_id)
        rows = list((await self.session.scalars(stmt.order_by(Consultation.closes_on.desc(), Consultation.id.desc())
                                                .limit(limit))).unique().all())
        on = today()
        return sorted(rows, key=lambda c: (not c.is_open(on),))

    async def visible(self, consultation_id: int, viewer: User | None) -> Consultation:
        return await visible_consultation(self.session, consultation_id, viewer)


def day(value: date | None) -> str:
    return value.isoformat() if value else ""
