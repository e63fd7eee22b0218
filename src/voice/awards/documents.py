"""Award entry documents as uploads (links stay possible, in ``Entry.documents``): PDFs and images checked
and stored by voice.attachments under the owner kind ``award_entry``. Who reads them: the entering
agency's staff, platform administrators, and the judges who may open the entry (assigned to its branch,
no conflict: the rule scoring uses). Who adds or removes them: the agency's administrators while the
edition takes entries. Never public."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.attachments.checks import CleanFile, Kind
from voice.attachments.models import Attachment
from voice.attachments.owners import Owner, OwnerState, register
from voice.attachments.services import AttachmentService
from voice.awards.models import Edition, EditionStatus, Entry
from voice.awards.visibility import assigned_to_branch, judge_may_see
from voice.errors import Forbidden, ValidationFailed
from voice.i18n import _

ATTACHMENT_OWNER = "award_entry"
KINDS = (Kind.PDF, Kind.IMAGE)
MAX_DOCUMENTS = 20  # links and files together


async def _state(session: AsyncSession, entry_id: int) -> OwnerState | None:
    row = (await session.execute(select(Entry.agency_id).where(Entry.id == entry_id))).first()
    return OwnerState(agency_id=row.agency_id, public=False) if row else None


async def _judge_reads(session: AsyncSession, user: User, entry_id: int) -> bool:
    if user.role is not Role.JUDGE:
        return False
    return bool(await session.scalar(select(exists().where(
        Entry.id == entry_id, assigned_to_branch(user.id), judge_may_see(user.id)))))


async def _managers(session: AsyncSession, user: User, entry_id: int) -> bool:
    """The entering agency's administrators, while the edition still takes entries."""
    if user.role is not Role.AGENCY_ADMIN or user.agency_id is None:
        return False
    return bool(await session.scalar(select(exists().where(
        Entry.id == entry_id, Entry.agency_id == user.agency_id, Edition.id == Entry.edition_id,
        Edition.status == EditionStatus.OPEN_FOR_ENTRIES))))


register(ATTACHMENT_OWNER, Owner(state=_state, readers=_judge_reads, managers=_managers))


async def add_documents(attachments: AttachmentService, user: User, entry: Entry,
                        files: list[tuple[CleanFile, str]]) -> list[Attachment]:
    """Store checked files (each with its title) on an entry the user may change; at most MAX_DOCUMENTS in all."""
    if not files:
        return []
    if not await _managers(attachments.session, user, entry.id):
        raise Forbidden(_("Only an agency administrator can enter the award."))
    present = len(await attachments.for_owner(ATTACHMENT_OWNER, entry.id)) + len(entry.documents or [])
    if present + len(files) > MAX_DOCUMENTS:
        raise ValidationFailed(_("At most 20 documents."), field="document_files")
    return [await attachments.add(clean, owner_kind=ATTACHMENT_OWNER, owner_id=entry.id, uploaded_by=user,
                                  title=title or None) for clean, title in files]
