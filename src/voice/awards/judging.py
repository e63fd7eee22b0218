"""Judging: what each judge scores (their branches, minus conflicts and their own ideas), declaring a
conflict of interest, score sheets from draft to submitted with every change kept, and the
administrators' view of progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, func, not_, select

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.awards.editions import EditionService
from voice.awards.models import (
    Branch,
    Conflict,
    Edition,
    EditionStatus,
    Entry,
    JudgeAssignment,
    Score,
    ScoreHistory,
    ScoreSheet,
)
from voice.awards.visibility import assigned_to_branch, judge_may_see
from voice.catalogue.models import Agency
from voice.db import DomainService
from voice.errors import Conflict as Conflict409
from voice.errors import NotFound, ValidationFailed
from voice.i18n import _, fmt_number, parse_int


@dataclass
class JudgeProgress:
    branch: Branch
    judge: User
    entries: int
    drafts: int
    submitted: int


class JudgingService(DomainService[ScoreSheet]):
    class Repo(SQLAlchemyAsyncRepository[ScoreSheet]):
        model_type = ScoreSheet

    repository_type = Repo

    # ----- what a judge sees ------------------------------------------------------------------

    async def judge_editions(self, judge: User) -> list[Edition]:
        ids = select(JudgeAssignment.edition_id).where(JudgeAssignment.judge_id == judge.id)
        return list((await self.session.scalars(select(Edition).where(Edition.id.in_(ids))
                                                .order_by(Edition.number.desc()))).all())

    async def judge_entries(self, judge: User, edition_id: int) -> list[tuple[Entry, ScoreSheet | None]]:
        entries = (await self.session.scalars(select(Entry).where(
            Entry.edition_id == edition_id, assigned_to_branch(judge.id), judge_may_see(judge.id))
            .order_by(Entry.branch_id, Entry.id))).all()
        sheets = {s.entry_id: s for s in (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.judge_id == judge.id, ScoreSheet.entry_id.in_([e.id for e in entries])))).all()}
        return [(e, sheets.get(e.id)) for e in entries]

    async def entry_for_judge(self, judge: User, entry_id: int) -> Entry:
        """The entry, if this judge is assigned to its branch and has no conflict with it; else 404."""
        entry = await self.session.scalar(select(Entry).where(
            Entry.id == entry_id, assigned_to_branch(judge.id), judge_may_see(judge.id)))
        if entry is None:
            raise NotFound(_("No such entry."))
        return entry

    # ----- conflicts of interest --------------------------------------------------------------

    async def conflicts(self, judge: User, edition_id: int) -> list[Conflict]:
        return list((await self.session.scalars(select(Conflict).where(
            Conflict.judge_id == judge.id, Conflict.edition_id == edition_id).order_by(Conflict.id))).all())

    async def record_conflict(self, admin: User, edition_id: int, judge_email: str, agency_slug: str = "",
                              entry_id: int | None = None, reason: str = "") -> Conflict:
        """A conflict an administrator knows of, under the same rule as a judge's own declaration."""
        judge = await self.session.scalar(select(User).where(User.email == judge_email.strip().lower()[:254]))
        if judge is None or not await self.session.scalar(select(JudgeAssignment.id).where(
                JudgeAssignment.edition_id == edition_id, JudgeAssignment.judge_id == judge.id)):
            raise ValidationFailed(_("Choose a judge of this edition."), field="judge")
        return await self.declare_conflict(judge, edition_id, agency_slug, entry_id, reason, recorded_by=admin)

    async def declare_conflict(self, judge: User, edition_id: int, agency_slug: str = "", entry_id: int | None = None,
                               reason: str = "", recorded_by: User | None = None) -> Conflict:
        """Declare a conflict of interest: with an agency (its entries) or one entry. Cannot be taken back.
        ``recorded_by`` is the administrator who recorded it for the judge."""
        edition = await EditionService(session=self.session).edition(edition_id)
        if not await self.session.scalar(select(JudgeAssignment.id).where(
                JudgeAssignment.edition_id == edition.id, JudgeAssignment.judge_id == judge.id)):
            raise NotFound(_("No such award edition."))
        row = Conflict(edition_id=edition.id, judge_id=judge.id, reason=reason.strip()[:2000],
                       recorded_by_id=recorded_by.id if recorded_by else None)
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
        await audit(self.session, "award.conflict.record" if recorded_by else "award.conflict.declare",
                    actor=recorded_by or judge, target_type="award_edition", target_id=edition.id,
                    agency=row.agency_id, entry=row.entry_id, judge=judge.id)
        return row

    # ----- score sheets -----------------------------------------------------------------------

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
                value = parse_int(raw, 0, c.scale_max)  # "٧" typed on an Arabic keyboard is 7
                if value is None:
                    errors[f"score_{c.id}"] = _("A whole number from %(lo)s to %(hi)s.", lo=fmt_number(0),
                                                hi=fmt_number(c.scale_max))
                    continue
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

    # ----- progress (administrators) ----------------------------------------------------------

    async def progress(self, edition_id: int) -> list[JudgeProgress]:
        """Per branch and judge: entries the judge may score, drafts saved, sheets submitted."""
        editions = EditionService(session=self.session)
        out = []
        for branch in await editions.branches(edition_id):
            for judge in await editions.judges(branch.id):
                visible = select(Entry.id).where(Entry.branch_id == branch.id, judge_may_see(judge.id))
                n = await self.session.scalar(select(func.count()).select_from(visible.subquery())) or 0
                sheets = (await self.session.scalars(select(ScoreSheet).where(
                    ScoreSheet.judge_id == judge.id, ScoreSheet.entry_id.in_(visible)))).all()
                done = sum(1 for s in sheets if s.submitted_at)
                out.append(JudgeProgress(branch, judge, n, len(sheets) - done, done))
        return out
