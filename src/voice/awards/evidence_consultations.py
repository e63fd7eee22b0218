"""The e-consultation evidence of an agency: consultations it held in the evidence period, who took part
(individuals, businesses, agencies), the comments, the share of draft articles answered in a published
response report, and the changes adopted (amended, removed or added articles), which also count for
e-decision-making.

As in ``voice.awards.evidence``, each figure and the records it opens come from one predicate, so they
cannot disagree, and only public text is returned (redacted comments, the agency's own reasons)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from voice.accounts.models import SubmitterKind
from voice.awards.models import Edition
from voice.catalogue.models import Agency
from voice.consultations.models import (
    Consultation,
    ConsultationArticle,
    ConsultationComment,
    ConsultationStatus,
    Decision,
)
from voice.i18n import _, fmt_date, fmt_number
from voice.labels import label

CHANGES = (Decision.AMENDED, Decision.REMOVED, Decision.ADDED)


def held(edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
    """Consultations the agency published that opened within the evidence period."""
    return [Consultation.agency_id == agency.id, Consultation.status != ConsultationStatus.DRAFT,
            Consultation.opens_on >= edition.evidence_from, Consultation.opens_on <= edition.evidence_to]


def _held_ids(edition: Edition, agency: Agency) -> Any:
    return select(Consultation.id).where(*held(edition, agency))


def _comments(edition: Edition, agency: Agency, kind: SubmitterKind | None = None) -> list[ColumnElement[bool]]:
    where = [ConsultationComment.consultation_id.in_(_held_ids(edition, agency)),
             ConsultationComment.hidden.is_(False)]
    return where + ([ConsultationComment.author_kind == kind] if kind else [])


def _articles(edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
    """The draft articles of the held consultations (articles added in a report are changes, not drafts)."""
    return [ConsultationArticle.consultation_id.in_(_held_ids(edition, agency)),
            ConsultationArticle.added_in_report.is_(False)]


def _reported() -> ColumnElement[bool]:
    return ConsultationArticle.consultation_id.in_(
        select(Consultation.id).where(Consultation.report_published_at.is_not(None)))


def _answered(edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
    return [*_articles(edition, agency), ConsultationArticle.decision.is_not(None), _reported()]


def _changes(edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
    return [ConsultationArticle.consultation_id.in_(_held_ids(edition, agency)),
            ConsultationArticle.decision.in_(CHANGES), _reported()]


async def _count(session: AsyncSession, column: Any, where: list[ColumnElement[bool]]) -> int:
    return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def figures(session: AsyncSession, edition: Edition, agency: Agency, make: Any) -> tuple[list, list]:
    """(e-consultation figures, e-decision-making figures), built with ``make`` (the dossier's Figure)."""
    consultations = await _count(session, Consultation.id, held(edition, agency))
    comments = await _count(session, ConsultationComment.id, _comments(edition, agency))
    participants = []
    for kind in SubmitterKind:
        people = await _count(session, func.distinct(ConsultationComment.author_id), _comments(edition, agency, kind))
        records = await _count(session, ConsultationComment.id, _comments(edition, agency, kind))
        participants.append(make(f"consultation_kind_{kind.value}",
                                 _("Consultation participants: %(kind)s", kind=label(kind)), people, "count", records))
    drafts = await _count(session, ConsultationArticle.id, _articles(edition, agency))
    answered = await _count(session, ConsultationArticle.id, _answered(edition, agency))
    changes = await _count(session, ConsultationArticle.id, _changes(edition, agency))
    consultation = [
        make("consultations", _("Public consultations held"), consultations, "count", consultations),
        *participants,
        make("consultation_comments", _("Comments on consultations"), comments, "count", comments),
        make("consultation_answered", _("Share of draft articles answered in a published response report"),
             answered / drafts if drafts else None, "share", answered, drafts),
        make("consultation_changes", _("Changes adopted after a consultation (articles amended, removed or added)"),
             changes, "count", changes),
    ]
    decision = [make("consultation_changes", _("Changes adopted after a consultation (articles amended, removed "
                                               "or added)"), changes, "count", changes)]
    return consultation, decision


async def rows(session: AsyncSession, edition: Edition, agency: Agency, figure: str,
               limit: int = 5000) -> tuple[str, list[Any]] | None:
    """(kind, rows) behind a consultation figure, or None when the figure is not one of these."""
    if figure == "consultations":
        return "consultation", list((await session.scalars(select(Consultation).where(*held(edition, agency))
                                                         .order_by(Consultation.opens_on, Consultation.id)
                                                         .limit(limit))).unique().all())
    kinds = {f"consultation_kind_{k.value}": k for k in SubmitterKind}
    if figure == "consultation_comments" or figure in kinds:
        return "consultation_comment", list((await session.scalars(select(ConsultationComment).where(
            *_comments(edition, agency, kinds.get(figure))).order_by(ConsultationComment.id).limit(limit))).unique().all())
    if figure in ("consultation_answered", "consultation_changes"):
        where = _answered(edition, agency) if figure == "consultation_answered" else _changes(edition, agency)
        return "consultation_article", list((await session.scalars(select(ConsultationArticle).where(*where).order_by(
            ConsultationArticle.consultation_id, ConsultationArticle.number).limit(limit))).all())
    return None


def _parts(kind: str, row: Any) -> tuple[str, Any, str, dict[str, Any]]:
    """(reference, when, public text, coded details) of a consultation record."""
    if kind == "consultation":
        return (f"CONS-{row.id}", row.created_at, row.title_ar, {
            "opens_on": row.opens_on.isoformat(), "closes_on": row.closes_on.isoformat(),
            "comments": row.comments_count, "reported": row.report_published_at is not None})
    if kind == "consultation_comment":
        return (f"CONS-{row.consultation_id}/{row.article.number}/C-{row.id}", row.created_at, row.body_public, {
            "stance": row.stance.value if row.stance else None, "submitter_kind": row.author_kind.value,
            "organisation": row.organisation})
    return (f"CONS-{row.consultation_id}/{row.number}", row.updated_at,
            " — ".join(p for p in (row.title, row.reason or "") if p),
            {"decision": row.decision.value if row.decision else None, "new_text": row.amended_body})


def to_records(kind: str, rows: list[Any], make: Any) -> list:
    """Consultation rows as the dossier's drill-down records (built with ``make``, the dossier's Record)."""
    out = []
    for row in rows:
        reference, when, text, detail = _parts(kind, row)
        out.append(make(kind, row.id, reference, when, text, detail_words(kind, detail)))
    return out


def detail_words(kind: str, detail: dict[str, Any]) -> dict[str, str]:
    """A consultation record's coded details in the reader's language: labels for codes, dates through the
    one date format (Gregorian with Hijri, the locale's digits), counts in the locale's digits. The live and
    the frozen dossier both word them here."""
    words: dict[str, str] = {}
    for k, v in detail.items():
        if v in (None, "", False):
            continue
        if k in ("stance", "submitter_kind", "decision"):
            words[k] = label(v)
        elif k == "reported":
            words[k] = _("Response published")
        elif k == "opens_on":
            words[k] = _("Opens on %(d)s", d=fmt_date(date.fromisoformat(v)))
        elif k == "closes_on":
            words[k] = _("Closes on %(d)s", d=fmt_date(date.fromisoformat(v)))
        elif k == "comments":
            words[k] = _("Comments: %(n)s", n=fmt_number(v))
        else:
            words[k] = str(v)
    if kind == "consultation_comment" and not detail.get("stance"):
        words["stance"] = _("Reply")
    return words


def frozen(kind: str, row: Any, day: Any) -> dict[str, Any] | None:
    """A consultation record as a frozen dossier keeps it (public text, day, coded details), or None for
    other kinds."""
    if not kind.startswith("consultation"):
        return None
    _reference, when, text, detail = _parts(kind, row)
    return {"kind": kind, "day": day(when), "text": text, "public": True, "detail": detail}
