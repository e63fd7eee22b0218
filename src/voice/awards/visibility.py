"""Who sees what of the award, in one place: the entries a judge may open (never conflicted, never
their own idea), what blind judging hides, and who may read an agency's evidence dossier. Whether a
ranking is visible is the edition's own rule (``Edition.ranking_visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from voice.accounts.models import Role, User
from voice.awards.models import Branch, BranchCode, Conflict, Edition, Entry, JudgeAssignment
from voice.catalogue.models import Agency
from voice.i18n import _, fmt_number, get_locale


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
        return entry.idea.author.public_name  # the display name: results are public
    return ""


def display(entry: Entry, blind: bool) -> EntryDisplay:
    if not blind:
        return EntryDisplay(entry.title, entrant_name(entry), False)
    # An agency's own title often names it; an idea's title is already public and names no one.
    title = entry.title if entry.idea_id else _("Entry no. %(n)s", n=fmt_number(entry.id))
    return EntryDisplay(title, "", True)


def shown_to_judge(entry: Entry) -> EntryDisplay:
    """An entry as its judges see it while judging: blind where the branch's rubric says so."""
    return display(entry, entry.branch.blind)


def shown_in_results(entry: Entry) -> EntryDisplay:
    """An entry in the results drill-down: blind names stay hidden until publication."""
    return display(entry, entry.branch.blind and not entry.branch.edition.results_published)


async def may_read_dossier(session: AsyncSession, viewer: User | None, edition: Edition, agency: Agency) -> bool:
    """Platform admins; the agency's own staff; judges of the edition with no conflict with the agency."""
    if viewer is None:
        return False
    if viewer.is_admin or (viewer.is_staff and viewer.agency_id == agency.id):
        return True
    if viewer.role is not Role.JUDGE:
        return False
    # Only judges of the participation branch read dossiers by agency, and only when that branch is not
    # blind (blind judges reach the dossier through the entry, without the agency's name); a conflict
    # with the agency or with its entry hides it.
    branch = await session.scalar(select(Branch).join(
        JudgeAssignment, JudgeAssignment.branch_id == Branch.id).where(
        JudgeAssignment.edition_id == edition.id, JudgeAssignment.judge_id == viewer.id,
        Branch.code == BranchCode.E_PARTICIPATION))
    if branch is None or branch.blind:
        return False
    entry_ids = select(Entry.id).where(Entry.branch_id == branch.id, Entry.agency_id == agency.id)
    return not await session.scalar(select(Conflict.id).where(
        Conflict.edition_id == edition.id, Conflict.judge_id == viewer.id,
        (Conflict.agency_id == agency.id) | Conflict.entry_id.in_(entry_ids)))
