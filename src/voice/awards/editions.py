"""Award editions as platform administrators set them up: an edition with its seven branches and
default rubrics, branches added, renamed, described and removed, rubric editing until judging starts,
which judges score which branch, and conflicts of interest recorded by the administrators."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, func, select

from voice.accounts.models import Role, User
from voice.accounts.services import audit
from voice.awards.defaults import BRANCHES, DEFAULT_SCALE, RUBRICS
from voice.awards.models import MAX_MIN_JUDGES, Branch, BranchCode, Criterion, Edition, Entry, JudgeAssignment
from voice.awards.models import Conflict as ConflictRow
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.i18n import _, fmt_number


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
        """A branch by its slug (the code, for the award's seven branches)."""
        branch = await self.session.scalar(select(Branch).where(Branch.edition_id == edition_id,
                                                                Branch.slug == str(code)[:64]))
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
            branch = Branch(edition_id=edition.id, code=code, slug=code.value, name_ar=ar, name_en=en,
                            position=position, blind=blind)
            rubric = RUBRICS.get(code, RUBRICS["generic"])
            branch.criteria = [Criterion(position=i, name_ar=c[0], name_en=c[1], description=c[2],
                                         description_ar=c[4], weight=c[3], scale_max=DEFAULT_SCALE)
                               for i, c in enumerate(rubric)]
            self.session.add(branch)
        await self.session.flush()
        await audit(self.session, "award.edition.create", actor=actor, target_type="award_edition",
                    target_id=edition.id)
        return edition

    async def set_min_judges(self, actor: User, edition_id: int, value: str) -> Edition:
        """How many judges must score an entry before it is ranked; fixed once judging opens, so the rule
        does not change under the judges' feet."""
        edition = await self.edition(edition_id)
        if not edition.status.rubrics_editable:
            raise Conflict(_("The minimum number of judges cannot change once judging has started."))
        raw = str(value).strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 3 or not 1 <= int(raw) <= MAX_MIN_JUDGES:
            raise ValidationFailed(_("Enter a whole number of judges from 1 to %(n)s.", n=fmt_number(MAX_MIN_JUDGES)),
                                   field="min_judges")
        edition.min_judges = int(raw)
        await self.session.flush()
        await audit(self.session, "award.edition.min_judges", actor=actor, target_type="award_edition",
                    target_id=edition.id, min_judges=edition.min_judges)
        return edition

    # ----- branches ---------------------------------------------------------------------------

    async def add_branch(self, actor: User, edition_id: int, data: dict[str, Any]) -> Branch:
        """A branch of the administrators' own (agencies' entries, the generic rubric), until judging opens."""
        edition = await self.edition(edition_id)
        if not edition.status.rubrics_editable:
            raise Conflict(_("Branches cannot change once judging has started."))
        errors: dict[str, str] = {}
        slug = str(data.get("slug", "")).strip().lower()
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-_]{0,62}[a-z0-9])?", slug):
            errors["slug"] = _("A slug is 1 to 64 lower-case Latin letters, digits and dashes.")
        elif await self.session.scalar(select(Branch.id).where(Branch.edition_id == edition.id, Branch.slug == slug)):
            errors["slug"] = _("This edition already has a branch with this slug.")
        branch = Branch(edition_id=edition.id, code=BranchCode.CUSTOM, slug=slug, blind=False,
                        position=len(await self.branches(edition.id)))
        _apply_branch_texts(branch, data, errors)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        branch.criteria = [Criterion(position=i, name_ar=c[0], name_en=c[1], description=c[2], description_ar=c[4],
                                     weight=c[3], scale_max=DEFAULT_SCALE) for i, c in enumerate(RUBRICS["generic"])]
        self.session.add(branch)
        await self.session.flush()
        await audit(self.session, "award.branch.add", actor=actor, target_type="award_branch", target_id=branch.id,
                    edition=edition.id, slug=slug)
        return branch

    async def update_branch(self, actor: User, branch_id: int, data: dict[str, Any]) -> Branch:
        """Rename a branch and describe it in both languages (names may change until results are out)."""
        branch = await self.branch(branch_id)
        if branch.edition.results_published:
            raise Conflict(_("The results of this edition are published."))
        errors: dict[str, str] = {}
        _apply_branch_texts(branch, data, errors)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        await self.session.flush()
        await audit(self.session, "award.branch.update", actor=actor, target_type="award_branch", target_id=branch.id)
        return branch

    async def remove_branch(self, actor: User, branch_id: int) -> int:
        """Remove a branch before judging opens (its entries and judges go with it); returns its edition."""
        branch = await self.branch(branch_id)
        if not branch.edition.status.rubrics_editable:
            raise Conflict(_("Branches cannot change once judging has started."))
        edition_id = branch.edition_id
        await self.session.delete(branch)
        await self.session.flush()
        await audit(self.session, "award.branch.remove", actor=actor, target_type="award_branch", target_id=branch_id,
                    edition=edition_id, slug=branch.slug)
        return edition_id

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

    async def conflicts(self, edition_id: int) -> list[tuple[ConflictRow, User]]:
        """Every conflict of interest in the edition with its judge (declared or recorded by an admin)."""
        return [(c, j) for c, j in (await self.session.execute(
            select(ConflictRow, User).join(User, User.id == ConflictRow.judge_id)
            .where(ConflictRow.edition_id == edition_id).order_by(ConflictRow.id))).all()]

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
    c.description_ar = str(data.get(prefix + "description_ar", "")).strip()[:2000]


def _apply_branch_texts(branch: Branch, data: dict[str, Any], errors: dict[str, str]) -> None:
    name_ar = " ".join(str(data.get("name_ar", "")).split())[:200]
    name_en = " ".join(str(data.get("name_en", "")).split())[:200]
    if len(name_ar) < 2:
        errors["name_ar"] = _("Enter the Arabic name.")
    if len(name_en) < 2:
        errors["name_en"] = _("Enter the English name.")
    branch.name_ar, branch.name_en = name_ar, name_en
    branch.description_ar = str(data.get("description_ar", "")).strip()[:4000]
    branch.description_en = str(data.get("description_en", "")).strip()[:4000]

