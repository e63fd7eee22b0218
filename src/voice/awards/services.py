"""Award operations: editions and their branches, rubrics, entries, judges and conflicts, scoring, results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ideas.models import Idea, IdeaModeration, IdeaStatus
from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.awards import scoring
from voice.awards.models import (
    Branch,
    BranchCode,
    Conflict,
    Criterion,
    Edition,
    EditionStatus,
    Entry,
    JudgeAssignment,
    ResultSnapshot,
    Score,
    ScoreHistory,
    ScoreSheet,
)
from voice.catalogue.models import Agency
from voice.errors import Conflict as Conflict409
from voice.errors import Forbidden, NotFound, ValidationFailed
from voice.i18n import _, get_locale

# The award's seven branches, in the order the award lists them: (code, Arabic, English, blind by default).
BRANCHES: list[tuple[BranchCode, str, str, bool]] = [
    (BranchCode.G2C, "خدمة الأفراد", "Service to individuals (G2C)", False),
    (BranchCode.G2B, "تعزيز الاقتصاد الوطني", "Strengthening the national economy (G2B)", False),
    (BranchCode.G2G, "التكامل بين الجهات الحكومية", "Integration between government agencies (G2G)", False),
    (BranchCode.E_LEADERSHIP, "القيادة الإلكترونية", "E-leadership", False),
    (BranchCode.E_PARTICIPATION, "المشاركة المجتمعية الإلكترونية (صوت المستفيد)",
     "E-community participation (voice of the beneficiary)", False),
    (BranchCode.SMART_DEVICES, "الخدمات الإلكترونية عبر الأجهزة الذكية", "E-services on smart devices", False),
    (BranchCode.E_CONTRIBUTION, "المساهمة الإلكترونية (الأفراد)", "E-contribution (individuals)", True),
]

# Default rubrics: (Arabic, English, description, weight); every criterion is scored 0..10.
RUBRICS: dict[str, list[tuple[str, str, str, float]]] = {
    BranchCode.E_CONTRIBUTION: [
        ("الابتكار", "Innovation", "How new and creative the idea is.", 3),
        ("قابلية التطبيق", "Feasibility", "Can an agency realistically build it with today's means?", 2),
        ("الأثر على جودة الخدمة", "Impact on service quality", "How much better the e-service would be.", 3),
        ("الوضوح", "Clarity", "Is the problem and the proposal clearly explained?", 2),
    ],
    BranchCode.E_PARTICIPATION: [
        ("الوصول وتعدد القنوات", "Reach and channels", "Who could speak, and through how many channels.", 2),
        ("الاستجابة", "Responsiveness", "Share answered, time to first answer, within the SLA.", 3),
        ("إغلاق الحلقة", "Closing the loop", "Feedback turned into delivered improvements.", 3),
        ("الشفافية", "Transparency", "Published answers and what changed, visible to the public.", 2),
    ],
    "generic": [
        ("جودة الخدمة وسهولتها", "Service quality and ease of use", "Completeness, speed, ease of use.", 3),
        ("الأثر والنتائج", "Impact and results", "Measured results for beneficiaries.", 3),
        ("الابتكار", "Innovation", "New approaches and technologies.", 2),
        ("التكامل والاستدامة", "Integration and sustainability", "Works with other agencies and lasts.", 2),
    ],
}

_NEXT_STATUS = {
    EditionStatus.DRAFT: EditionStatus.OPEN_FOR_ENTRIES,
    EditionStatus.OPEN_FOR_ENTRIES: EditionStatus.JUDGING,
    EditionStatus.JUDGING: EditionStatus.RESULTS_PUBLISHED,
}
_URL = re.compile(r"^https://[^\s<>\"']{3,500}$")


def judge_may_see(judge_id: int) -> ColumnElement[bool]:
    """Entries a judge may ever see: not conflicted (declared per agency or per entry), not their own idea.

    Used in every query that lists, opens, scores or reports entries for a judge.
    """
    conflicted = exists(select(Conflict.id).where(
        Conflict.judge_id == judge_id, Conflict.edition_id == Entry.edition_id,
        or_(Conflict.entry_id == Entry.id, and_(Conflict.agency_id.is_not(None), Conflict.agency_id == Entry.agency_id))))
    return and_(not_(conflicted), or_(Entry.author_id.is_(None), Entry.author_id != judge_id))


def assigned_to_branch(judge_id: int) -> ColumnElement[bool]:
    return exists(select(JudgeAssignment.id).where(JudgeAssignment.judge_id == judge_id,
                                                   JudgeAssignment.branch_id == Entry.branch_id))


@dataclass
class EntryDisplay:
    """What may be shown about an entry to a viewer: blind branches hide who is behind it."""

    title: str
    entrant: str
    blind: bool


def entrant_name(entry: Entry) -> str:
    if entry.agency is not None:
        return entry.agency.name(get_locale())
    if entry.idea is not None and entry.idea.author is not None:
        return entry.idea.author.full_name
    return ""


def display(entry: Entry, blind: bool) -> EntryDisplay:
    if not blind:
        return EntryDisplay(entry.title, entrant_name(entry), False)
    # An agency's own title often names it; an idea's title is already public and names no one.
    title = entry.title if entry.idea_id else _("Entry no. %(n)s", n=entry.id)
    return EntryDisplay(title, "", True)


@dataclass
class RankRow:
    rank: int
    entry_id: int
    title: str
    entrant: str
    mean_raw: float
    mean_normalized: float
    spread: float
    n_judges: int
    final_score: float


@dataclass
class Ranking:
    branch: Branch
    rows: list[RankRow]
    agreement: dict[str, Any]
    published: bool


@dataclass
class JudgeProgress:
    branch: Branch
    judge: User
    entries: int
    drafts: int
    submitted: int


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(_("Enter a date (YYYY-MM-DD)."), field=name) from exc


class AwardService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- editions ------------------------------------------------------------------------

    async def editions(self) -> list[Edition]:
        return list((await self.session.scalars(select(Edition).order_by(Edition.number.desc()))).all())

    async def edition(self, edition_id: int) -> Edition:
        edition = await self.session.get(Edition, edition_id)
        if edition is None:
            raise NotFound(_("No such award edition."))
        return edition

    async def branches(self, edition_id: int) -> list[Branch]:
        return list((await self.session.scalars(select(Branch).where(Branch.edition_id == edition_id)
                                                .order_by(Branch.position))).all())

    async def branch(self, branch_id: int) -> Branch:
        branch = await self.session.get(Branch, branch_id)
        if branch is None:
            raise NotFound(_("No such branch."))
        return branch

    async def branch_by_code(self, edition_id: int, code: str) -> Branch:
        branch = await self.session.scalar(select(Branch).where(Branch.edition_id == edition_id, Branch.code == code))
        if branch is None:
            raise NotFound(_("No such branch."))
        return branch

    async def create_edition(self, actor: User, data: dict[str, str]) -> Edition:
        """A new edition with the award's seven branches and their default rubrics."""
        errors: dict[str, str] = {}
        name_ar, name_en = data.get("name_ar", "").strip(), data.get("name_en", "").strip()
        if not 2 <= len(name_ar) <= 200:
            errors["name_ar"] = _("Enter the Arabic name.")
        if not 2 <= len(name_en) <= 200:
            errors["name_en"] = _("Enter the English name.")
        number = data.get("number", "").strip()
        if not number.isascii() or not number.isdigit() or len(number) > 4 or not 1 <= int(number) <= 1000:
            errors["number"] = _("Enter the edition number.")
        elif await self.session.scalar(select(Edition.id).where(Edition.number == int(number))):
            errors["number"] = _("An edition with this number already exists.")
        dates: dict[str, date] = {}
        for name in ("opens_on", "closes_on", "evidence_from", "evidence_to"):
            try:
                dates[name] = _parse_date(data.get(name, ""), name)
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if not errors and dates["closes_on"] < dates["opens_on"]:
            errors["closes_on"] = _("The closing date must come after the opening date.")
        if not errors and dates["evidence_to"] < dates["evidence_from"]:
            errors["evidence_to"] = _("The evidence period must end after it starts.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        edition = Edition(number=int(number), name_ar=name_ar, name_en=name_en, **dates)
        self.session.add(edition)
        await self.session.flush()
        for position, (code, ar, en, blind) in enumerate(BRANCHES):
            branch = Branch(edition_id=edition.id, code=code, name_ar=ar, name_en=en, position=position, blind=blind)
            rubric = RUBRICS.get(code, RUBRICS["generic"])
            branch.criteria = [Criterion(position=i, name_ar=c[0], name_en=c[1], description=c[2], weight=c[3],
                                         scale_max=10) for i, c in enumerate(rubric)]
            self.session.add(branch)
        await self.session.flush()
        await audit(self.session, "award.edition.create", actor=actor, target_type="award_edition",
                    target_id=edition.id)
        return edition

    async def advance(self, actor: User, edition_id: int, to: str) -> Edition:
        """Move an edition one step forward; opening judging enters ideas, publishing freezes results."""
        edition = await self.edition(edition_id)
        target = _NEXT_STATUS.get(edition.status)
        if target is None or target.value != to:
            raise Conflict409(_("An edition moves one step at a time: draft, entries, judging, results."))
        if target is EditionStatus.JUDGING:
            edition.status = target
            await self.sync_idea_entries(edition)
        elif target is EditionStatus.RESULTS_PUBLISHED:
            await self._publish(edition)
        else:
            edition.status = target
        await audit(self.session, "award.edition.status", actor=actor, target_type="award_edition",
                    target_id=edition.id, to=target.value)
        return edition

    async def sync_idea_entries(self, edition: Edition) -> int:
        """Enter in e-contribution every idea accepted for evaluation (or beyond) that is not entered yet."""
        if edition.status is EditionStatus.RESULTS_PUBLISHED:
            return 0
        branch = await self.branch_by_code(edition.id, BranchCode.E_CONTRIBUTION)
        entered = select(Entry.idea_id).where(Entry.branch_id == branch.id, Entry.idea_id.is_not(None))
        ideas = (await self.session.scalars(select(Idea).where(
            Idea.status.in_([IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.SHORTLISTED, IdeaStatus.WINNER]),
            Idea.moderation != IdeaModeration.HIDDEN, Idea.merged_into_id.is_(None),
            Idea.id.not_in(entered)).order_by(Idea.id))).all()
        for idea in ideas:
            self.session.add(Entry(edition_id=edition.id, branch_id=branch.id, idea_id=idea.id,
                                   author_id=idea.author_id, title=idea.title[:200],
                                   narrative=idea.description_public))
        await self.session.flush()
        return len(ideas)

    # ----- rubrics and judges (platform admins) -------------------------------------------------

    def _rubric_editable(self, branch: Branch) -> None:
        if not branch.edition.status.rubrics_editable:
            raise Conflict409(_("Rubrics cannot change once judging has started."))

    async def save_rubric(self, actor: User, branch_id: int, data: dict[str, Any]) -> Branch:
        branch = await self.branch(branch_id)
        self._rubric_editable(branch)
        branch.blind = str(data.get("blind", "")) in ("1", "on", "true")
        errors: dict[str, str] = {}
        for c in branch.criteria:
            prefix = f"c{c.id}_"
            if str(data.get(prefix + "delete", "")) == "1":
                await self.session.delete(c)
                continue
            self._apply_criterion(c, data, prefix, errors)
        if str(data.get("new_name_ar", "")).strip():
            c = Criterion(branch_id=branch.id, position=len(branch.criteria))
            self._apply_criterion(c, data, "new_", errors)
            if not errors:
                self.session.add(c)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        await self.session.flush()
        await audit(self.session, "award.rubric.save", actor=actor, target_type="award_branch", target_id=branch.id)
        await self.session.refresh(branch, ["criteria"])
        return branch

    @staticmethod
    def _apply_criterion(c: Criterion, data: dict[str, Any], prefix: str, errors: dict[str, str]) -> None:
        name_ar = str(data.get(prefix + "name_ar", "")).strip()[:200]
        name_en = str(data.get(prefix + "name_en", "")).strip()[:200] or name_ar
        if not name_ar:
            errors[prefix + "name_ar"] = _("Every criterion needs a name.")
        try:
            weight = float(str(data.get(prefix + "weight", "1")).strip())
            scale = int(str(data.get(prefix + "scale_max", "10")).strip())
        except ValueError:
            errors[prefix + "weight"] = _("Weights are positive numbers and scales whole numbers from 1 to 100.")
            return
        if not (0 < weight <= 100 and 1 <= scale <= 100):
            errors[prefix + "weight"] = _("Weights are positive numbers and scales whole numbers from 1 to 100.")
            return
        c.name_ar, c.name_en, c.weight, c.scale_max = name_ar, name_en, weight, scale
        c.description = str(data.get(prefix + "description", "")).strip()[:2000]

    async def assign_judge(self, actor: User, branch_id: int, email: str) -> JudgeAssignment:
        branch = await self.branch(branch_id)
        if branch.edition.status is EditionStatus.RESULTS_PUBLISHED:
            raise Conflict409(_("The results of this edition are published."))
        judge = await self.session.scalar(select(User).where(User.email == email.strip().lower()))
        if judge is None or judge.role is not Role.JUDGE:
            raise ValidationFailed(_("No judge account with this e-mail."), field="email")
        found = await self.session.scalar(select(JudgeAssignment).where(
            JudgeAssignment.branch_id == branch.id, JudgeAssignment.judge_id == judge.id))
        if found:
            return found
        row = JudgeAssignment(edition_id=branch.edition_id, branch_id=branch.id, judge_id=judge.id)
        self.session.add(row)
        await self.session.flush()
        await audit(self.session, "award.judge.assign", actor=actor, target_type="award_branch",
                    target_id=branch.id, judge=judge.id)
        return row

    async def unassign_judge(self, actor: User, branch_id: int, judge_id: int) -> None:
        await self.session.execute(delete(JudgeAssignment).where(
            JudgeAssignment.branch_id == branch_id, JudgeAssignment.judge_id == judge_id))
        await audit(self.session, "award.judge.unassign", actor=actor, target_type="award_branch",
                    target_id=branch_id, judge=judge_id)

    async def judges(self, branch_id: int) -> list[User]:
        rows = await self.session.scalars(select(JudgeAssignment).where(JudgeAssignment.branch_id == branch_id)
                                          .order_by(JudgeAssignment.id))
        return [r.judge for r in rows]

    async def progress(self, edition_id: int) -> list[JudgeProgress]:
        """Per branch and judge: entries the judge may score, drafts saved, sheets submitted."""
        out = []
        for branch in await self.branches(edition_id):
            for judge in await self.judges(branch.id):
                visible = select(Entry.id).where(Entry.branch_id == branch.id, judge_may_see(judge.id))
                n = await self.session.scalar(select(func.count()).select_from(visible.subquery())) or 0
                sheets = (await self.session.scalars(select(ScoreSheet).where(
                    ScoreSheet.judge_id == judge.id, ScoreSheet.entry_id.in_(visible)))).all()
                done = sum(1 for s in sheets if s.submitted_at)
                out.append(JudgeProgress(branch, judge, n, len(sheets) - done, done))
        return out

    # ----- entries (agencies) ----------------------------------------------------------------------

    async def enter(self, user: User, edition_id: int, data: dict[str, Any]) -> Entry:
        """An agency administrator enters the agency in a branch (or updates its entry while entries are open)."""
        if user.role is not Role.AGENCY_ADMIN or user.agency_id is None:
            raise Forbidden(_("Only an agency administrator can enter the award."))
        edition = await self.edition(edition_id)
        if edition.status is not EditionStatus.OPEN_FOR_ENTRIES:
            raise Conflict409(_("This edition is not open for entries."))
        code = str(data.get("branch", ""))
        if code == BranchCode.E_CONTRIBUTION:
            raise ValidationFailed(_("E-contribution is entered by individuals' ideas, not by agencies."),
                                   field="branch")
        branch = await self.branch_by_code(edition.id, code)
        title = " ".join(str(data.get("title", "")).split())[:200]
        narrative = str(data.get("narrative", "")).strip()[:20_000]
        errors: dict[str, str] = {}
        if len(title) < 3:
            errors["title"] = _("Give the entry a title.")
        if len(narrative) < 20:
            errors["narrative"] = _("Describe the entry (at least 20 characters).")
        documents = []
        for line in str(data.get("documents", "")).splitlines():
            line = line.strip()
            if not line:
                continue
            label, _sep, url = line.rpartition(" ")
            if not _URL.match(url):
                errors["documents"] = _("Each document line is a title and an https:// link.")
                break
            documents.append({"title": label.strip()[:200] or url, "url": url})
        if len(documents) > 20:
            errors["documents"] = _("At most 20 documents.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        entry = await self.session.scalar(select(Entry).where(Entry.branch_id == branch.id,
                                                              Entry.agency_id == user.agency_id))
        if entry is None:
            entry = Entry(edition_id=edition.id, branch_id=branch.id, agency_id=user.agency_id, title=title)
            self.session.add(entry)
        entry.title, entry.narrative, entry.documents, entry.submitted_by_id = title, narrative, documents, user.id
        await self.session.flush()
        await audit(self.session, "award.entry.save", actor=user, target_type="award_entry", target_id=entry.id,
                    agency_id=user.agency_id)
        return entry

    async def agency_entries(self, agency_id: int) -> list[Entry]:
        return list((await self.session.scalars(select(Entry).where(Entry.agency_id == agency_id)
                                                .order_by(Entry.edition_id.desc(), Entry.branch_id))).all())

    # ----- judging ----------------------------------------------------------------------------

    async def judge_entries(self, judge: User, edition_id: int) -> list[tuple[Entry, ScoreSheet | None]]:
        entries = (await self.session.scalars(select(Entry).where(
            Entry.edition_id == edition_id, assigned_to_branch(judge.id), judge_may_see(judge.id))
            .order_by(Entry.branch_id, Entry.id))).all()
        sheets = {s.entry_id: s for s in (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.judge_id == judge.id, ScoreSheet.entry_id.in_([e.id for e in entries])))).all()}
        return [(e, sheets.get(e.id)) for e in entries]

    async def judge_editions(self, judge: User) -> list[Edition]:
        ids = select(JudgeAssignment.edition_id).where(JudgeAssignment.judge_id == judge.id)
        return list((await self.session.scalars(select(Edition).where(Edition.id.in_(ids))
                                                .order_by(Edition.number.desc()))).all())

    async def conflicts(self, judge: User, edition_id: int) -> list[Conflict]:
        return list((await self.session.scalars(select(Conflict).where(
            Conflict.judge_id == judge.id, Conflict.edition_id == edition_id).order_by(Conflict.id))).all())

    async def entry_for_judge(self, judge: User, entry_id: int) -> Entry:
        """The entry, if this judge is assigned to its branch and has no conflict with it; else 404."""
        entry = await self.session.scalar(select(Entry).where(
            Entry.id == entry_id, assigned_to_branch(judge.id), judge_may_see(judge.id)))
        if entry is None:
            raise NotFound(_("No such entry."))
        return entry

    async def declare_conflict(self, judge: User, edition_id: int, agency_slug: str = "", entry_id: int | None = None,
                               reason: str = "") -> Conflict:
        """Declare a conflict of interest: with an agency (its entries) or one entry. Cannot be taken back."""
        edition = await self.edition(edition_id)
        if not await self.session.scalar(select(JudgeAssignment.id).where(
                JudgeAssignment.edition_id == edition.id, JudgeAssignment.judge_id == judge.id)):
            raise NotFound(_("No such award edition."))
        row = Conflict(edition_id=edition.id, judge_id=judge.id, reason=reason.strip()[:2000])
        if agency_slug:
            agency = await self.session.scalar(select(Agency).where(Agency.slug == agency_slug))
            if agency is None:
                raise ValidationFailed(_("Choose an agency."), field="agency")
            row.agency_id = agency.id
        elif entry_id:
            entry = await self.session.scalar(select(Entry).where(Entry.id == entry_id, Entry.edition_id == edition.id,
                                                                  assigned_to_branch(judge.id)))
            if entry is None:
                raise ValidationFailed(_("Choose an entry."), field="entry")
            row.entry_id = entry.id
        else:
            raise ValidationFailed(_("Choose an agency or an entry."), field="agency")
        self.session.add(row)
        # Drafts on the conflicted entries are dropped: a conflicted judge's scores must not count.
        await self.session.flush()
        hidden = select(Entry.id).where(Entry.edition_id == edition.id, not_(judge_may_see(judge.id)))
        await self.session.execute(delete(ScoreSheet).where(ScoreSheet.judge_id == judge.id,
                                                            ScoreSheet.entry_id.in_(hidden)))
        await audit(self.session, "award.conflict.declare", actor=judge, target_type="award_edition",
                    target_id=edition.id, agency=row.agency_id, entry=row.entry_id)
        return row

    async def sheet(self, judge: User, entry_id: int) -> ScoreSheet | None:
        return await self.session.scalar(select(ScoreSheet).where(ScoreSheet.entry_id == entry_id,
                                                                  ScoreSheet.judge_id == judge.id))

    async def save_scores(self, judge: User, entry_id: int, data: dict[str, Any], submit: bool) -> ScoreSheet:
        """Save a draft (any criteria) or submit (all criteria); once submitted, the sheet is read-only."""
        entry = await self.entry_for_judge(judge, entry_id)
        edition = entry.branch.edition
        if edition.status is not EditionStatus.JUDGING:
            raise Conflict409(_("Scoring is closed for this edition."))
        sheet = await self.sheet(judge, entry.id)
        if sheet is not None and sheet.submitted_at is not None:
            raise Conflict409(_("These scores were submitted and can no longer change."))
        errors: dict[str, str] = {}
        parsed: dict[int, tuple[int | None, str]] = {}
        for c in entry.branch.criteria:
            raw = str(data.get(f"score_{c.id}", "")).strip()
            comment = str(data.get(f"comment_{c.id}", "")).strip()[:4000]
            value: int | None = None
            if raw:
                if not raw.isascii() or not raw.isdigit() or len(raw) > 4 or not 0 <= int(raw) <= c.scale_max:
                    errors[f"score_{c.id}"] = _("A whole number from 0 to %(n)s.", n=c.scale_max)
                    continue
                value = int(raw)
            elif submit:
                errors[f"score_{c.id}"] = _("Score every criterion before submitting.")
                continue
            parsed[c.id] = (value, comment)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        if sheet is None:
            sheet = ScoreSheet(entry_id=entry.id, judge_id=judge.id, scores=[])
            self.session.add(sheet)
            await self.session.flush()
        current = {s.criterion_id: s for s in sheet.scores}
        action = "submit" if submit else "save"
        for criterion_id, (value, comment) in parsed.items():
            old = current.get(criterion_id)
            if value is None:
                if old is not None:  # cleared in a draft
                    self.session.add(ScoreHistory(sheet_id=sheet.id, criterion_id=criterion_id, actor_id=judge.id,
                                                  action=action, old_value=old.value, new_value=None,
                                                  old_comment=old.comment, new_comment=None))
                    sheet.scores.remove(old)
                continue
            if old is not None and old.value == value and old.comment == comment:
                continue
            self.session.add(ScoreHistory(
                sheet_id=sheet.id, criterion_id=criterion_id, actor_id=judge.id, action=action,
                old_value=old.value if old else None, new_value=value,
                old_comment=old.comment if old else None, new_comment=comment))
            if old is None:
                sheet.scores.append(Score(criterion_id=criterion_id, value=value, comment=comment))
            else:
                old.value, old.comment = value, comment
        if submit:
            sheet.submitted_at = datetime.now(UTC)
            self.session.add(ScoreHistory(sheet_id=sheet.id, actor_id=judge.id, action="submit"))
        await self.session.flush()
        await audit(self.session, f"award.score.{action}", actor=judge, target_type="award_entry",
                    target_id=entry.id, sheet=sheet.id,
                    values={str(k): v[0] for k, v in parsed.items()})
        return sheet

    # ----- results -----------------------------------------------------------------------------

    async def branch_totals(self, branch: Branch) -> tuple[list[Entry], dict[int, dict[int, float]]]:
        """Every entry of the branch and, per judge, the weighted totals of the sheets they submitted."""
        entries = list((await self.session.scalars(select(Entry).where(Entry.branch_id == branch.id)
                                                   .order_by(Entry.id))).all())
        specs = [scoring.CriterionSpec(c.id, c.weight, c.scale_max) for c in branch.criteria]
        sheets = (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.entry_id.in_([e.id for e in entries]), ScoreSheet.submitted_at.is_not(None)))).all()
        totals: dict[int, dict[int, float]] = {}
        for s in sheets:
            values = {sc.criterion_id: sc.value for sc in s.scores}
            totals.setdefault(s.judge_id, {})[s.entry_id] = scoring.weighted_total(values, specs)
        return entries, totals

    async def ranking(self, branch: Branch, viewer: User | None) -> Ranking:
        """The branch's ranking: frozen snapshot once published, computed live before (admins only).

        A judge never sees entries they are conflicted with, even here; blind names stay hidden until
        publication.
        """
        edition = branch.edition
        published = edition.status is EditionStatus.RESULTS_PUBLISHED
        hidden: set[int] = set()
        if viewer is not None and viewer.role is Role.JUDGE:
            hidden = set((await self.session.scalars(select(Entry.id).where(
                Entry.branch_id == branch.id, not_(judge_may_see(viewer.id))))).all())
        if published:
            snaps = (await self.session.scalars(select(ResultSnapshot).where(ResultSnapshot.branch_id == branch.id)
                                                .order_by(ResultSnapshot.rank))).all()
            rows = [RankRow(s.rank, s.entry_id, s.title, s.entrant, s.mean_raw, s.mean_normalized, s.spread,
                            s.n_judges, s.final_score) for s in snaps if s.entry_id not in hidden]
            return Ranking(branch, rows, dict(branch.published_agreement or {}), True)
        rows, agreement = await self._compute(branch, blind=branch.blind)
        return Ranking(branch, [r for r in rows if r.entry_id not in hidden], agreement, False)

    async def _compute(self, branch: Branch, blind: bool) -> tuple[list[RankRow], dict[str, Any]]:
        entries, totals = await self.branch_totals(branch)
        by_id = {e.id: e for e in entries}
        ranked = scoring.rank(scoring.entry_results(totals))
        rows = []
        for i, r in enumerate(ranked, start=1):
            shown = display(by_id[r.entry_id], blind)
            rows.append(RankRow(i, r.entry_id, shown.title, shown.entrant, r.mean_raw, r.mean_normalized, r.spread,
                                r.n_judges, r.final_score))
        agree = scoring.agreement(totals)
        return rows, {"kendall_w": agree.kendall_w, "kendall_judges": agree.kendall_judges,
                      "kendall_entries": agree.kendall_entries, "krippendorff_alpha": agree.krippendorff_alpha}

    async def _publish(self, edition: Edition) -> None:
        """Freeze every branch's ranking in snapshot rows; from now on scoring is closed for good."""
        for branch in await self.branches(edition.id):
            rows, agreement = await self._compute(branch, blind=False)
            branch.published_agreement = agreement
            for r in rows:
                self.session.add(ResultSnapshot(
                    edition_id=edition.id, branch_id=branch.id, entry_id=r.entry_id, rank=r.rank, title=r.title[:200],
                    entrant=r.entrant[:200], mean_raw=r.mean_raw, mean_normalized=r.mean_normalized, spread=r.spread,
                    n_judges=r.n_judges, final_score=r.final_score))
        edition.status = EditionStatus.RESULTS_PUBLISHED
        edition.published_at = datetime.now(UTC)
        await self.session.flush()

    async def entry_scores(self, entry: Entry) -> list[tuple[ScoreSheet, float]]:
        """The submitted sheets of an entry with each judge's weighted total (results drill-down)."""
        specs = [scoring.CriterionSpec(c.id, c.weight, c.scale_max) for c in entry.branch.criteria]
        sheets = (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.entry_id == entry.id, ScoreSheet.submitted_at.is_not(None)).order_by(ScoreSheet.id))).all()
        return [(s, scoring.weighted_total({x.criterion_id: x.value for x in s.scores}, specs)) for s in sheets]

    async def entry_for_results(self, viewer: User | None, entry_id: int) -> Entry:
        """An entry's results drill-down: admins always; after publication, judges of its branch (unless
        conflicted) and everyone else; conflicted judges get 404."""
        stmt = select(Entry).where(Entry.id == entry_id)
        if viewer is not None and viewer.role is Role.JUDGE:
            stmt = stmt.where(judge_may_see(viewer.id))
        entry = await self.session.scalar(stmt)
        if entry is None:
            raise NotFound(_("No such entry."))
        published = entry.branch.edition.status is EditionStatus.RESULTS_PUBLISHED
        if not published and not (viewer is not None and viewer.is_admin):
            raise NotFound(_("No such entry."))
        return entry

    async def can_see_ranking(self, viewer: User | None, edition: Edition) -> bool:
        return edition.status is EditionStatus.RESULTS_PUBLISHED or (viewer is not None and viewer.is_admin)
