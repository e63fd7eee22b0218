"""Participation evidence: an agency's figures for an edition's evidence period, grouped by the UN
e-participation stages, each figure paired with the exact records it counts (drill-down).

Every count and its drill-down use the same SQL predicate (``_feedback_figures``), so a figure and
the list it opens cannot disagree. Only public text is ever returned: ``body_public``, never the
original text or a contact e-mail.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Date, and_, cast, exists, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from ideas.models import Idea, IdeaComment, IdeaStatus, IdeaStatusEvent
from voice.accounts.models import SubmitterKind, User
from voice.awards import evidence_consultations
from voice.awards.editions import EditionRepository
from voice.awards.models import Edition, Entry
from voice.awards.visibility import assigned_to_branch, judge_may_see, may_read_dossier
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import NotFound
from voice.feedback.models import OPEN_STATUSES, Channel, Event, Feedback, Response
from voice.i18n import RIYADH, _, fmt_date, fmt_number, ngettext
from voice.ids import parse_id
from voice.labels import label
from voice.themes.models import Theme
from voice.workspace.models import (
    Improvement,
    ImprovementKind,
    ImprovementStatus,
    improvement_feedback,
    improvement_theme,
)


@dataclass
class Figure:
    key: str  # the drill-down key: /records?figure=<key>
    label: str
    value: float | int | None
    unit: str  # count | share | hours | score
    records: int  # how many records the drill-down lists
    denominator: int | None = None


@dataclass
class Stage:
    key: str  # e_information | e_consultation | e_decision_making
    title: str
    explanation: str
    figures: list[Figure]


@dataclass
class ThemeAction:
    improvement_id: int
    title: str
    kind: str
    status: str


@dataclass
class ThemeEvidence:
    theme_id: int
    label: str
    items: int
    figure_key: str
    actions: list[ThemeAction] = field(default_factory=list)


@dataclass
class Dossier:
    edition_id: int
    agency_slug: str
    agency_name: str
    period_from: date
    period_to: date
    stages: list[Stage]
    by_channel: list[Figure]
    by_submitter_kind: list[Figure]
    improvements_by_kind: list[Figure]
    themes: list[ThemeEvidence]

    def figures(self) -> list[Figure]:
        out = [f for s in self.stages for f in s.figures]
        return out + self.by_channel + self.by_submitter_kind + self.improvements_by_kind

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_from"], data["period_to"] = self.period_from.isoformat(), self.period_to.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dossier:
        """A dossier back from ``as_dict`` (a frozen snapshot)."""
        figures = lambda rows: [Figure(**f) for f in rows]  # noqa: E731
        return cls(data["edition_id"], data["agency_slug"], data["agency_name"],
                   date.fromisoformat(data["period_from"]), date.fromisoformat(data["period_to"]),
                   [Stage(s["key"], s["title"], s["explanation"], figures(s["figures"])) for s in data["stages"]],
                   figures(data["by_channel"]), figures(data["by_submitter_kind"]),
                   figures(data["improvements_by_kind"]),
                   [ThemeEvidence(t["theme_id"], t["label"], t["items"], t["figure_key"],
                                  [ThemeAction(**a) for a in t["actions"]]) for t in data["themes"]])


@dataclass
class Record:
    """One row of a drill-down list: public text only."""

    kind: str  # feedback | improvement | idea
    id: int
    reference: str
    created_at: datetime | date  # a frozen dossier keeps only the day
    text: str
    detail: dict[str, str]


def period_bounds(edition: Edition) -> tuple[datetime, datetime]:
    """The evidence period as [start, end) instants, in Saudi days."""
    start = datetime.combine(edition.evidence_from, time.min, tzinfo=RIYADH)
    end = datetime.combine(edition.evidence_to + timedelta(days=1), time.min, tzinfo=RIYADH)
    return start, end


def _answered() -> ColumnElement[bool]:
    return exists(select(Response.id).where(Response.feedback_id == Feedback.id))


def _closed_loop() -> ColumnElement[bool]:
    """Linked to a delivered improvement, and not reopened by its author as "not fixed" since."""
    reopened = and_(Feedback.status.in_(OPEN_STATUSES), exists(select(Event.id).where(
        Event.feedback_id == Feedback.id, Event.kind == "reopened")))
    return and_(exists(select(improvement_feedback.c.feedback_id)
                       .join(Improvement, Improvement.id == improvement_feedback.c.improvement_id)
                       .where(improvement_feedback.c.feedback_id == Feedback.id,
                              Improvement.status == ImprovementStatus.DELIVERED)), ~reopened)


def _feedback_figures() -> dict[str, ColumnElement[bool]]:
    figures: dict[str, ColumnElement[bool]] = {
        "received": true(),
        "answered": _answered(),
        "first_answer": Feedback.first_response_at.is_not(None),
        "within_sla": Feedback.first_response_at.is_not(None) & (Feedback.first_response_at <= Feedback.due_at),
        "satisfaction": Feedback.satisfaction.is_not(None),
        "published_answers": exists(select(Response.id).where(Response.feedback_id == Feedback.id,
                                                              Response.public.is_(True))),
        "public_items": Feedback.is_public.is_(True),
        "closed_loop": _closed_loop(),
    }
    for ch in Channel:
        figures[f"channel_{ch.value}"] = Feedback.channel == ch
    for kind in SubmitterKind:
        figures[f"kind_{kind.value}"] = Feedback.submitter_kind == kind
    return figures


def _improvement_figures() -> dict[str, ColumnElement[bool]]:
    figures: dict[str, ColumnElement[bool]] = {"improvements": true(), "you_said_we_did": true()}
    for kind in ImprovementKind:
        figures[f"improvements_{kind.value}"] = Improvement.kind == kind
    return figures


@dataclass
class IdeaDossier:
    """The e-contribution evidence of one idea: support, discussion, agency answers, adoption, implementation.

    Blind: only what the author wrote and the agencies' answers (without their names). Its status (such as
    "winner"), votes and comments say which public idea it is and how it fared, so they are left out.
    """

    idea_id: int
    title: str
    problem: str
    description: str
    status: str  # '' when blind
    votes: int | None  # None when blind
    comments: list[str]  # empty when blind
    answers: list[tuple[datetime, str, str]]  # when, agency name ('' when blind), answer
    adopted_by: str  # '' when blind
    implemented: bool
    blind: bool = False


class EvidenceService(DomainService[Edition]):
    repository_type = EditionRepository

    # ----- whose dossier ----------------------------------------------------------------------

    async def resolve(self, viewer: User | None, edition_id: int, agency_slug: str) -> tuple[Edition, Agency]:
        edition = await self.session.get(Edition, edition_id)
        agency = await self.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        # One answer for "no such thing" and "not yours": nothing leaks about other agencies.
        if edition is None or agency is None or not await may_read_dossier(self.session, viewer, edition, agency):
            raise NotFound(_("No such dossier."))
        return edition, agency

    async def resolve_entry(self, judge: User, entry_id: int) -> tuple[Edition, Agency, Entry]:
        """A participation entry's dossier for a judge assigned to its branch (used when the branch is blind)."""
        entry = await self.session.scalar(select(Entry).where(
            Entry.id == entry_id, Entry.agency_id.is_not(None), assigned_to_branch(judge.id),
            judge_may_see(judge.id)))
        if entry is None or not entry.branch.is_participation or entry.agency is None:
            raise NotFound(_("No such dossier."))
        return entry.branch.edition, entry.agency, entry

    # ----- figures ----------------------------------------------------------------------------------

    def _feedback_base(self, edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
        start, end = period_bounds(edition)
        return [Feedback.agency_id == agency.id, Feedback.created_at >= start, Feedback.created_at < end]

    def _improvement_base(self, edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
        # Delivered within the period (by delivery date, or the day it was recorded when no date was given).
        delivered = func.coalesce(Improvement.delivered_on, cast(func.timezone("Asia/Riyadh", Improvement.created_at),
                                                                 Date))
        return [Improvement.agency_id == agency.id, Improvement.status == ImprovementStatus.DELIVERED,
                delivered >= edition.evidence_from, delivered <= edition.evidence_to]

    def _idea_base(self, edition: Edition, agency: Agency) -> list[ColumnElement[bool]]:
        _start, end = period_bounds(edition)
        return [Idea.adopted_by_agency_id == agency.id,
                Idea.status.in_([IdeaStatus.ADOPTED, IdeaStatus.IMPLEMENTED]), Idea.created_at < end]

    async def _count(self, model: Any, where: list[ColumnElement[bool]]) -> int:
        return int(await self.session.scalar(select(func.count(model.id)).where(*where)) or 0)

    async def dossier(self, edition: Edition, agency: Agency, agency_name: str | None = None) -> Dossier:
        base = self._feedback_base(edition, agency)
        fb = _feedback_figures()
        counts = {key: await self._count(Feedback, [*base, pred]) for key, pred in fb.items()}
        received = counts["received"]

        def share(key: str) -> float | None:
            return counts[key] / received if received else None

        hours = [float(h) for h in (await self.session.scalars(select(
            func.extract("epoch", Feedback.first_response_at - Feedback.created_at) / 3600.0)
            .where(*base, fb["first_answer"]))).all()]
        median = float(np.percentile(hours, 50)) if hours else None
        p90 = float(np.percentile(hours, 90)) if hours else None
        sat = (await self.session.execute(select(func.avg(Feedback.satisfaction), func.count(Feedback.id))
                                          .where(*base, fb["satisfaction"]))).one()

        ibase = self._improvement_base(edition, agency)
        improvements = await self._count(Improvement, ibase)
        by_kind = [Figure(f"improvements_{k.value}", label(k), n, "count", n)
                   for k in ImprovementKind
                   for n in [await self._count(Improvement, [*ibase, Improvement.kind == k])]]
        adopted = await self._count(Idea, self._idea_base(edition, agency))

        consulted, decided = await evidence_consultations.figures(self.session, edition, agency, Figure)
        F = Figure  # a short name keeps the table of figures readable
        stages = [
            Stage("e_information", _("E-information"),
                  _("What the agency tells the public: answers published, items on the public board, changes made."),
                  [F("published_answers", _("Feedback with a published answer"), counts["published_answers"], "count",
                     counts["published_answers"]),
                   F("public_items", _("Items on the public board"), counts["public_items"], "count",
                     counts["public_items"]),
                   F("you_said_we_did", _("Changes shown on “You said, we did”"), improvements, "count",
                     improvements)]),
            Stage("e_consultation", _("E-consultation"),
                  _("Listening and answering: feedback received, answered, how fast, and how satisfied people were."),
                  [F("received", _("Feedback received"), received, "count", received),
                   F("answered", _("Share answered (any answer)"), share("answered"), "share", counts["answered"],
                     received),
                   F("first_answer", _("Time to first answer, median (hours)"), median, "hours",
                     counts["first_answer"]),
                   F("first_answer", _("Time to first answer, 90th percentile (hours)"), p90, "hours",
                     counts["first_answer"]),
                   F("within_sla", _("Share answered within the agency's SLA (of all received)"), share("within_sla"),
                     "share", counts["within_sla"], received),
                   F("satisfaction", _("Satisfaction with answers (1–5)"),
                     float(sat[0]) if sat[0] is not None else None, "score", int(sat[1])), *consulted]),
            Stage("e_decision_making", _("E-decision-making"),
                  _("What changed because of what people said: improvements delivered, feedback that led to them, "
                    "ideas adopted."),
                  [F("improvements", _("Improvements delivered"), improvements, "count", improvements),
                   F("closed_loop", _("Closed-loop rate: share of feedback linked to a delivered improvement"),
                     share("closed_loop"), "share", counts["closed_loop"], received),
                   F("adopted_ideas", _("Ideas adopted by the agency"), adopted, "count", adopted), *decided]),
        ]
        by_channel = [F(f"channel_{c.value}", label(c), counts[f"channel_{c.value}"], "count",
                        counts[f"channel_{c.value}"]) for c in Channel]
        by_sub = [F(f"kind_{k.value}", label(k), counts[f"kind_{k.value}"], "count", counts[f"kind_{k.value}"])
                  for k in SubmitterKind]
        return Dossier(edition.id, agency.slug, agency_name if agency_name is not None else agency.name_ar,
                       edition.evidence_from, edition.evidence_to, stages, by_channel, by_sub, by_kind,
                       await self._themes(base, agency))

    async def _themes(self, base: list[ColumnElement[bool]], agency: Agency) -> list[ThemeEvidence]:
        rows = (await self.session.execute(
            select(Theme.id, Theme.label, func.count(Feedback.id)).join(Feedback, Feedback.theme_id == Theme.id)
            .where(*base).group_by(Theme.id, Theme.label).order_by(func.count(Feedback.id).desc(), Theme.id))).all()
        out = []
        for theme_id, theme_label, n in rows:
            actions = (await self.session.scalars(select(Improvement).join(
                improvement_theme, improvement_theme.c.improvement_id == Improvement.id)
                .where(improvement_theme.c.theme_id == theme_id, Improvement.agency_id == agency.id)
                .order_by(Improvement.id))).all()
            out.append(ThemeEvidence(theme_id, theme_label, int(n), f"theme_{theme_id}", [
                ThemeAction(i.id, i.title, i.kind.value, i.status.value) for i in actions]))
        return out

    # ----- drill-down ---------------------------------------------------------------------------

    async def rows(self, edition: Edition, agency: Agency, figure: str, limit: int = 5000) -> tuple[str, list[Any]]:
        """Exactly the records a figure counts, as rows of their kind (feedback, improvement or idea)."""
        fb = _feedback_figures()
        if figure in fb or figure.startswith("theme_"):
            if figure in fb:
                pred = fb[figure]
            elif (theme_id := parse_id(figure[6:])) is not None:
                pred = Feedback.theme_id == theme_id
            else:
                raise NotFound(_("No such figure."))
            return "feedback", list((await self.session.scalars(select(Feedback).where(
                *self._feedback_base(edition, agency), pred).order_by(Feedback.created_at, Feedback.id)
                .limit(limit))).all())
        imp = _improvement_figures()
        if figure in imp:
            return "improvement", list((await self.session.scalars(select(Improvement).where(
                *self._improvement_base(edition, agency), imp[figure]).order_by(Improvement.id).limit(limit))).all())
        if figure == "adopted_ideas":
            return "idea", list((await self.session.scalars(select(Idea).where(*self._idea_base(edition, agency))
                                                             .order_by(Idea.id).limit(limit))).all())
        consulted = await evidence_consultations.rows(self.session, edition, agency, figure, limit)
        if consulted is not None:
            return consulted
        raise NotFound(_("No such figure."))

    async def records(self, edition: Edition, agency: Agency, figure: str, limit: int = 5000) -> list[Record]:
        """The live drill-down of a figure (the agency's staff and administrators): its records under their
        public references."""
        kind, rows = await self.rows(edition, agency, figure, limit)
        if kind == "feedback":
            # A reference, never the tracking code: that code is the submitter's key to private answers.
            return [Record("feedback", f.id, f"FB-{f.id}", f.created_at, f.body_public, {
                "channel": label(f.channel), "submitter_kind": label(f.submitter_kind), "status": label(f.status),
                "due_at": _("due %(date)s", date=fmt_date(f.due_at)),
                "first_response_at": _("first answer %(date)s", date=fmt_date(f.first_response_at))
                if f.first_response_at else "",
                "satisfaction": _("satisfaction %(n)s of 5", n=fmt_number(f.satisfaction)) if f.satisfaction else ""})
                for f in rows]
        if kind == "improvement":
            return [Record("improvement", i.id, f"IMP-{i.id}", i.created_at, f"{i.title} — {i.description}".strip(" —"),
                           {"kind": label(i.kind), "status": label(i.status),
                            "delivered_on": _("delivered %(date)s", date=fmt_date(i.delivered_on))
                            if i.delivered_on else ""}) for i in rows]
        if kind.startswith("consultation"):
            return evidence_consultations.to_records(kind, rows, Record)
        return [Record("idea", i.id, f"IDEA-{i.id}", i.created_at, f"{i.title} — {i.description_public}",
                       {"status": label(i.status), "votes": ngettext("%(num)s vote", "%(num)s votes", i.votes)})
                for i in rows]

    # ----- e-contribution ----------------------------------------------------------------------------

    async def idea_dossier(self, idea: Idea, blind: bool) -> IdeaDossier:
        """What judges of e-contribution read about an idea entry (``IdeaDossier``: less when ``blind``)."""
        comments = [] if blind else (await self.session.scalars(select(IdeaComment.body_public).where(
            IdeaComment.idea_id == idea.id, IdeaComment.hidden.is_(False)).order_by(IdeaComment.id))).all()
        events = (await self.session.scalars(select(IdeaStatusEvent).where(
            IdeaStatusEvent.idea_id == idea.id, IdeaStatusEvent.public.is_(True), IdeaStatusEvent.answer.is_not(None))
            .order_by(IdeaStatusEvent.id))).all()
        answers = [(e.created_at, "" if blind or e.agency is None else e.agency.name_ar, e.answer or "") for e in events]
        if not answers and idea.answer:
            answers = [(idea.updated_at, "" if blind or idea.answer_agency is None else idea.answer_agency.name_ar,
                        idea.answer)]
        if blind:
            return IdeaDossier(idea.id, idea.title, idea.problem_public, idea.description_public, "", None, [],
                               answers, "", False, blind=True)
        adopted = "" if idea.adopted_by is None else idea.adopted_by.name_ar
        return IdeaDossier(idea.id, idea.title, idea.problem_public, idea.description_public, idea.status.value,
                           idea.votes, list(comments), answers, adopted, idea.status is IdeaStatus.IMPLEMENTED)


def figure_title(key: str) -> str:
    """A figure's name for people (the records page), never its key."""
    names = {
        "published_answers": _("Feedback with a published answer"), "public_items": _("Items on the public board"),
        "you_said_we_did": _("Changes shown on “You said, we did”"), "received": _("Feedback received"),
        "answered": _("Share answered (any answer)"), "first_answer": _("Time to first answer, median (hours)"),
        "within_sla": _("Share answered within the agency's SLA (of all received)"),
        "satisfaction": _("Satisfaction with answers (1–5)"), "improvements": _("Improvements delivered"),
        "closed_loop": _("Closed-loop rate: share of feedback linked to a delivered improvement"),
        "adopted_ideas": _("Ideas adopted by the agency")}
    if key in names:
        return names[key]
    for prefix in ("channel_", "improvements_"):
        if key.startswith(prefix):
            return label(key[len(prefix):])
    return _("Theme") if key.startswith("theme_") else key
