"""The one service behind every upload and download: check a file, store it with its row (both or
neither), list an item's files, open one for a viewer with their rights checked, publish or remove one.

Other slices call it: ``check`` before they write anything (a refused file leaves nothing behind), then
``add`` in the same transaction as their own row; ``for_owner`` / ``for_owners`` to list files;
``published_for`` for public pages. Rights (``may_read``): platform administrators; staff of the agency
that owns the item now; the person who uploaded the file; readers the owner's slice names (judges of an
award entry); anyone, only once a moderator published the file and while its item is itself public.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.attachments.checks import CleanFile, Kind, Upload, inspect
from voice.attachments.clamd import ScannerUnavailable, scan
from voice.attachments.models import Attachment
from voice.attachments.owners import owner
from voice.attachments.settings import AttachmentsSettings
from voice.attachments.storage import Storage, deleted_in_transaction, storage_for, written_in_transaction
from voice.db import DomainService
from voice.errors import DomainError, NotFound, ValidationFailed
from voice.i18n import _


class ScanUnavailable(DomainError):
    status_code = 503


_DEFAULT: list[AttachmentsSettings] = []


def default_settings() -> AttachmentsSettings:
    """The section read from the environment (CLI, jobs, tests); the web app hands its own to the service."""
    if not _DEFAULT:
        _DEFAULT.append(AttachmentsSettings.from_env())
    return _DEFAULT[0]


class AttachmentService(DomainService[Attachment]):
    class Repo(SQLAlchemyAsyncRepository[Attachment]):
        model_type = Attachment

    repository_type = Repo
    _settings: AttachmentsSettings | None = None

    def using(self, settings: AttachmentsSettings) -> AttachmentService:
        self._settings = settings
        return self

    @property
    def settings(self) -> AttachmentsSettings:
        return self._settings or default_settings()

    @property
    def storage(self) -> Storage:
        return storage_for(self.settings)

    async def check(self, upload: Upload, kinds: tuple[Kind, ...], field: str = "file") -> CleanFile:
        """The file cleaned for storage, or ValidationFailed on ``field``; writes nothing."""
        clean = await asyncio.to_thread(inspect, upload, kinds, self.settings, field)
        if self.settings.clamd:
            try:
                verdict = await scan(self.settings.clamd, upload.data, self.settings.clamd_timeout)
            except ScannerUnavailable as exc:
                raise ScanUnavailable(_("The file could not be checked for viruses just now. Please try again "
                                        "in a few minutes."), field=field) from exc
            if not verdict.clean:
                raise ValidationFailed(_("The virus scanner found malware in this file (%(name)s). It was "
                                         "not accepted.", name=verdict.signature or "?"), field=field)
        return clean

    async def add(self, clean: CleanFile, *, owner_kind: str, owner_id: int, uploaded_by: User | None,
                  title: str | None = None) -> Attachment:
        """Store a checked file and its row in the session's transaction: if that transaction does not
        commit, the file is deleted too (voice.attachments.storage)."""
        key = self.storage.new_key(owner_kind)
        await self.storage.put(key, clean.data)
        written_in_transaction(self.session.sync_session, self.storage, key)
        row = Attachment(owner_kind=owner_kind, owner_id=owner_id, storage_key=key, kind=clean.kind.value,
                         media_type=clean.media_type, filename=clean.filename,
                         title=" ".join((title or "").split())[:200] or None, size=len(clean.data),
                         sha256=hashlib.sha256(clean.data).hexdigest(), width=clean.width, height=clean.height,
                         pages=clean.pages, uploaded_by_id=uploaded_by.id if uploaded_by else None)
        self.session.add(row)
        try:
            await self.session.flush()
        except Exception:
            await self.storage.delete(key)
            raise
        return row

    async def attach(self, upload: Upload, kinds: tuple[Kind, ...], *, owner_kind: str, owner_id: int,
                     uploaded_by: User | None, title: str | None = None, field: str = "file") -> Attachment:
        """``check`` then ``add``."""
        clean = await self.check(upload, kinds, field)
        return await self.add(clean, owner_kind=owner_kind, owner_id=owner_id, uploaded_by=uploaded_by, title=title)

    async def for_owner(self, owner_kind: str, owner_id: int) -> list[Attachment]:
        return (await self.for_owners(owner_kind, [owner_id])).get(owner_id, [])

    async def for_owners(self, owner_kind: str, owner_ids: list[int]) -> dict[int, list[Attachment]]:
        """Every file of these items, oldest first. For the owner's agency pages: no rights check here."""
        found: dict[int, list[Attachment]] = {}
        if not owner_ids:
            return found
        rows = await self.session.scalars(select(Attachment).where(
            Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(owner_ids)).order_by(Attachment.id))
        for row in rows:
            found.setdefault(row.owner_id, []).append(row)
        return found

    async def published_for(self, owner_kind: str, owner_ids: list[int]) -> dict[int, list[Attachment]]:
        """The files public pages may show: published by a moderator, of items that are public themselves."""
        everything = await self.for_owners(owner_kind, owner_ids)
        shown: dict[int, list[Attachment]] = {}
        for owner_id, rows in everything.items():
            published = [r for r in rows if r.published]
            if published and await self._public(owner_kind, owner_id):
                shown[owner_id] = published
        return shown

    async def may_read(self, viewer: User | None, attachment: Attachment) -> bool:
        spec = owner(attachment.owner_kind)
        state = await spec.state(self.session, attachment.owner_id) if spec else None
        if spec is None or state is None:
            return False
        if viewer is not None:
            if viewer.is_admin or (viewer.is_staff and viewer.agency_id is not None
                                   and viewer.agency_id == state.agency_id):
                return True
            if attachment.uploaded_by_id is not None and attachment.uploaded_by_id == viewer.id:
                return True
            if spec.readers is not None and await spec.readers(self.session, viewer, attachment.owner_id):
                return True
        return attachment.published and state.public

    async def readable(self, viewer: User | None, attachment_id: int) -> Attachment:
        """The attachment if ``viewer`` may read it; otherwise 404, whether or not it exists."""
        attachment = await self.session.get(Attachment, attachment_id)
        if attachment is None or not await self.may_read(viewer, attachment):
            raise NotFound(_("This file does not exist or is not yours to see."))
        return attachment

    async def content(self, attachment: Attachment) -> bytes:
        try:
            return await self.storage.get(attachment.storage_key)
        except FileNotFoundError as exc:
            raise NotFound(_("This file does not exist or is not yours to see.")) from exc

    async def may_manage(self, user: User, attachment: Attachment) -> bool:
        """Administrators; the owner's managers if its slice names them, else the owning agency's staff."""
        if user.is_admin:
            return True
        spec = owner(attachment.owner_kind)
        if spec is None:
            return False
        if spec.managers is not None:
            return await spec.managers(self.session, user, attachment.owner_id)
        state = await spec.state(self.session, attachment.owner_id)
        return bool(user.is_staff and state is not None and user.agency_id == state.agency_id)

    async def _managed(self, user: User, attachment_id: int) -> Attachment:
        attachment = await self.readable(user, attachment_id)
        if not await self.may_manage(user, attachment):
            raise NotFound(_("This file does not exist or is not yours to see."))
        return attachment

    async def download_name(self, viewer: User | None, attachment: Attachment) -> str:
        """The file name a download carries: the sender's for the owning agency, administrators and the
        uploader; a neutral one for everyone else (a blind judge must not learn the agency from it)."""
        spec = owner(attachment.owner_kind)
        state = await spec.state(self.session, attachment.owner_id) if spec else None
        if viewer is not None and (viewer.is_admin or attachment.uploaded_by_id == viewer.id or (
                viewer.is_staff and state is not None and viewer.agency_id == state.agency_id)):
            return attachment.filename
        return f"file-{attachment.id}.{attachment.filename.rsplit('.', 1)[-1]}"

    async def publish(self, user: User, attachment_id: int, published: bool) -> Attachment:
        """A moderator's decision: show the file on public pages (while its item is public) or not."""
        attachment = await self._managed(user, attachment_id)
        attachment.published = published
        attachment.published_by_id = user.id if published else None
        attachment.published_at = datetime.now(UTC) if published else None
        await self.session.flush()
        await audit(self.session, "attachment.publish" if published else "attachment.unpublish", actor=user,
                    target_type="attachment", target_id=attachment.id, owner=f"{attachment.owner_kind}:{attachment.owner_id}")
        return attachment

    async def remove(self, user: User, attachment_id: int) -> Attachment:
        """Delete a file's row, and the file once that deletion commits."""
        attachment = await self._managed(user, attachment_id)
        await self.session.delete(attachment)
        await self.session.flush()
        deleted_in_transaction(self.session.sync_session, self.storage, attachment.storage_key)
        await audit(self.session, "attachment.remove", actor=user, target_type="attachment",
                    target_id=attachment.id, owner=f"{attachment.owner_kind}:{attachment.owner_id}")
        return attachment

    async def remove_for_owner(self, owner_kind: str, owner_id: int) -> int:
        """Delete every file of an item (the item is being deleted by its own slice)."""
        rows = await self.for_owner(owner_kind, owner_id)
        for row in rows:
            await self.session.delete(row)
        await self.session.flush()
        for row in rows:
            deleted_in_transaction(self.session.sync_session, self.storage, row.storage_key)
        return len(rows)

    async def _public(self, owner_kind: str, owner_id: int) -> bool:
        spec = owner(owner_kind)
        state = await spec.state(self.session, owner_id) if spec else None
        return bool(state and state.public)
