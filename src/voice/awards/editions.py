"""Award editions as platform administrators set them up: an edition with its seven branches and
default rubrics, rubric editing until judging starts, and which judges score which branch."""

from __future__ import annotations

from datetime import date
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, func, select

from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.awards.defaults import BRANCHES, DEFAULT_SCALE, RUBRICS
from voice.awards.models import Branch, Criterion, Edition, Entry, JudgeAssignment
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.i18n import _


class EditionRepository(SQLAlchemyAsyncRepository[Edition]):
    """The repository of the services that work on whole editions (set-up, steps, evidence)."""

    model_type = Edition


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(_("Enter a date (YYYY-MM-DD)."), field=name) from exc


class EditionService(DomainService[Edition]):
    repository_type = EditionRepository

    # ----- reading ----------------------------------------------------------------------------

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

    async def entry_counts(self, edition_id: int) -> dict[int, int]:
        """How many entries each branch of the edition has (branches without any count 0)."""
        counts = dict((await self.session.execute(select(Entry.branch_id, func.count(Entry.id)).where(
            Entry.edition_id == edition_id).group_by(Entry.branch_id))).all())
        return {b.id: int(counts.get(b.id, 0)) for b in await self.branches(edition_id)}

    # ----- set-up -----------------------------------------------------------------------------

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
                                         scale_max=DEFAULT_SCALE) for i, c in enumerate(rubric)]
            self.session.add(branch)
        await self.session.flush()
        await audit(self.session, "award.edition.create", actor=actor, target_type="award_edition",
                    target_id=edition.id)
        return edition

    # ----- rubrics ----------------------------------------------------------------------------

    async def save_rubric(self, actor: User, branch_id: int, data: dict[str, Any]) -> Branch:
        branch = await self.branch(branch_id)
        if not branch.edition.status.rubrics_editable:
            raise Conflict(_("Rubrics cannot change once judging has started."))
        branch.blind = str(data.get("blind", "")) in ("1", "on", "true")
        errors: dict[str, str] = {}
        for c in branch.criteria:
            prefix = f"c{c.id}_"
            if str(data.get(prefix + "delete", "")) == "1":
                await self.session.delete(c)
                continue
            _apply_criterion(c, data, prefix, errors)
        if str(data.get("new_name_ar", "")).strip():
            c = Criterion(branch_id=branch.id, position=len(branch.criteria))
            _apply_criterion(c, data, "new_", errors)
            if not errors:
                self.session.add(c)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        await self.session.flush()
        await audit(self.session, "award.rubric.save", actor=actor, target_type="award_branch", target_id=branch.id)
        await self.session.refresh(branch, ["criteria"])
        return branch

    # ----- judges -----------------------------------------------------------------------------

    async def assign_judge(self, actor: User, branch_id: int, email: str) -> JudgeAssignment:
        branch = await self.branch(branch_id)
        if branch.edition.results_published:
            raise Conflict(_("The results of this edition are published."))
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
