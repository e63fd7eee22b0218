"""The response report: after the window ends, the agency says for each article what it heard (counts,
themes), what it decided (kept, amended, removed, added) and why, with the amended text beside the draft.
Publishing it closes the consultation if still published, makes the report public and e-mails everyone
who took part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.consultations.access import (
    ARTICLE_NUMBERS,
    ConsultationRepository,
    managed_consultation,
    may_manage,
    optional_text,
    visible_consultation,
    window_ended,
)
from voice.consultations.insights import article_themes, stance_counts
from voice.consultations.models import (
    Consultation,
    ConsultationArticle,
    ConsultationComment,
    ConsultationStatus,
    Decision,
)
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.i18n import _, fmt_number, get_locale
from voice.notifications.outbox import link, notify
from voice.text import clean_body, public_text

MAX_AMENDED = 20_000  # characters of an article's amended (or added) text
MAX_SUMMARY = 10_000  # characters of the report's summary


@dataclass
class ArticleDecision:
    number: Any
    decision: str
    reason: str | None = None
    amended_text: str | None = None
    title: str | None = None  # for an added article


@dataclass
class ReportRow:
    article: ConsultationArticle
    counts: dict[str, int]
    themes: list[tuple[Any, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class ResponseReport:
    consultation: Consultation
    rows: list[ReportRow]
    participants: int

    @property
    def answered(self) -> int:
        return sum(1 for r in self.rows if r.article.decision is not None and not r.article.added_in_report)

    @property
    def draft_articles(self) -> int:
        return sum(1 for r in self.rows if not r.article.added_in_report)


def _decision(entry: ArticleDecision, known: set[int]) -> tuple[int, Decision, str | None, str | None, str]:
    try:
        number = int(str(entry.number).strip())
    except ValueError:
        raise ValidationFailed(_("Each decision needs the article's number."), field="articles") from None
    try:
        decision = Decision(str(entry.decision or "").strip())
    except ValueError:
        raise ValidationFailed(_("The decision is one of kept, amended, removed or added."),
                               field="articles") from None
    reason = optional_text(entry.reason, "reason")
    text = optional_text(entry.amended_text, "amended_text", MAX_AMENDED)
    if decision is Decision.ADDED:
        if number in known:
            raise ValidationFailed(_("Article %(n)s is in the draft: it can be kept, amended or removed.", n=fmt_number(number)),
                                   field="articles")
        if number not in ARTICLE_NUMBERS:
            raise ValidationFailed(_("Each article needs its own number (1 to 9999)."), field="articles")
    elif number not in known:
        raise ValidationFailed(_("This consultation has no article number %(n)s.", n=str(number)),
                               field="articles")
    if decision is not Decision.KEPT and not reason:
        raise ValidationFailed(_("Article %(n)s: give the reason for the decision.", n=fmt_number(number)), field="reason")
    if decision is Decision.ADDED and not text:
        raise ValidationFailed(_("Article %(n)s: write the text of the added article.", n=fmt_number(number)),
                               field="amended_text")
    title = clean_body(entry.title, field="title")[:300] if (entry.title or "").strip() else ""
    return number, decision, reason, text, title


class ConsultationResponseService(DomainService[Consultation]):
    repository_type = ConsultationRepository

    async def record(self, user: User | None, consultation_id: int, decisions: list[ArticleDecision],
                     summary: str | None = None, publish: bool = True) -> Consultation:
        """Record the decisions (articles not named keep theirs); ``publish`` makes the report public and
        notifies the participants the first time."""
        consultation = await managed_consultation(self.session, consultation_id, user, lock=True)
        if consultation.status is ConsultationStatus.DRAFT or not window_ended(consultation):
            raise Conflict(_("The response report comes after the consultation closes."))
        if not decisions and not consultation.report_published_at and not any(
                a.decision for a in consultation.articles):
            raise ValidationFailed(_("Give a decision for at least one article."), field="articles")
        known = {a.number for a in consultation.articles if not a.added_in_report}
        by_number = {a.number: a for a in consultation.articles}
        seen: set[int] = set()
        for entry in decisions:
            number, decision, reason, text, title = _decision(entry, known)
            if number in seen:
                raise ValidationFailed(_("Article %(n)s is decided twice.", n=fmt_number(number)), field="articles")
            seen.add(number)
            article = by_number.get(number)
            if article is None:
                article = ConsultationArticle(number=number, position=10_000 + number, title=title, body="",
                                              added_in_report=True)
                consultation.articles.append(article)
                by_number[number] = article
            article.decision = decision
            article.reason = public_text(reason) if reason else None
            article.amended_body = text if decision in (Decision.AMENDED, Decision.ADDED) else None
        if summary is not None:
            consultation.report_summary = optional_text(summary, "summary", MAX_SUMMARY)
        first = publish and consultation.report_published_at is None
        if publish:
            if consultation.status is ConsultationStatus.PUBLISHED:
                consultation.status, consultation.closed_at = ConsultationStatus.CLOSED, datetime.now(UTC)
            consultation.report_published_at = consultation.report_published_at or datetime.now(UTC)
        await self.session.flush()
        await audit(self.session, "consultation.report_publish" if publish else "consultation.report_save",
                    actor=user, target_type="consultation", target_id=consultation.id,
                    agency_id=consultation.agency_id, articles=sorted(seen))
        if first:
            await self._notify(consultation)
        return consultation

    async def _notify(self, consultation: Consultation) -> None:
        people = (await self.session.scalars(select(User).where(User.id.in_(
            select(ConsultationComment.author_id).where(ConsultationComment.consultation_id == consultation.id)),
            User.is_active.is_(True), User.erased_at.is_(None)))).unique().all()
        def subject() -> str:
            return _("The response to a consultation you took part in")

        def body() -> str:
            return _("%(agency)s published what it heard and what it changed in the consultation "
                     "“%(title)s”. Read the report: %(link)s",
                     agency=consultation.agency.name(get_locale()),
                     title=consultation.title(get_locale()),
                     link=link(f"/consultations/{consultation.id}/report"))

        for person in sorted(people, key=lambda p: p.email):
            await notify(self.session, person.email, subject=subject, body=body)

    async def build(self, consultation: Consultation) -> ResponseReport:
        counts = await stance_counts(self.session, consultation.id)
        _themes, per_article = await article_themes(self.session, consultation)
        rows = [ReportRow(article=a, counts={"support": 0, "oppose": 0, "suggest": 0} | counts.get(a.id, {}),
                          themes=per_article.get(a.id, [])) for a in consultation.articles]
        participants = int(await self.session.scalar(select(func.count(func.distinct(
            ConsultationComment.author_id))).where(ConsultationComment.consultation_id == consultation.id)) or 0)
        return ResponseReport(consultation=consultation, rows=rows, participants=participants)

    async def public(self, consultation_id: int, viewer: User | None = None) -> ResponseReport:
        """The published report (staff of the agency also see it before publishing)."""
        consultation = await visible_consultation(self.session, consultation_id, viewer)
        if consultation.report_published_at is None:
            if not may_manage(viewer, consultation):
                raise NotFound(_("The response report is not published yet."))
        return await self.build(consultation)
