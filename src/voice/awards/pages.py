"""An agency's award entries: administrators enter branches while an edition is open for entries, with
supporting documents as uploads (PDFs and images, checked by voice.attachments) or as links."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template

from voice.accounts.models import Role, User
from voice.attachments.checks import CleanFile
from voice.attachments.services import AttachmentService
from voice.attachments.web.controllers import attachments as attachments_provider
from voice.attachments.web.uploads import UPLOAD_LIMIT, upload_of
from voice.awards.controllers import DEPENDENCIES, Id
from voice.awards.documents import ATTACHMENT_OWNER, KINDS, MAX_DOCUMENTS, add_documents
from voice.awards.editions import EditionService
from voice.awards.entries import EntryService
from voice.awards.models import BranchCode, EditionStatus
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, ValidationFailed
from voice.i18n import _
from voice.web.auth import agency_member
from voice.web.forms import MultipartData, field, is_htmx, redirect_to

# Files chosen at once in the entry form, each checked before anything is saved.
MAX_FILES_AT_ONCE = 5


class AgencyAwardPages(Controller):
    path = "/awards/agency"
    guards = [agency_member]
    include_in_schema = False
    dependencies = {**DEPENDENCIES, "attachments": attachments_provider}

    async def _page(self, user: User, editions: EditionService, entries: EntryService, agencies: AgencyService,
                    attachments: AttachmentService, form: dict, errors: dict, status_code: int = 200) -> Template:
        all_editions = await editions.editions()
        agency = await agencies.get_one_or_none(Agency.id == user.agency_id) if user.agency_id else None
        ours = await entries.agency_entries(user.agency_id or 0)
        return Template("awards/agency.html", status_code=status_code, context={
            "editions": all_editions, "entries": ours, "agency": agency,
            "files": await attachments.for_owners(ATTACHMENT_OWNER, [e.id for e in ours]),
            "open": [e for e in all_editions if e.status is EditionStatus.OPEN_FOR_ENTRIES],
            "branch_codes": [c for c in BranchCode if c is not BranchCode.E_CONTRIBUTION],
            "can_enter": user.role is Role.AGENCY_ADMIN, "form": form, "errors": errors,
            "max_documents": MAX_DOCUMENTS})

    @get("/", name="award_agency")
    async def home(self, request: Request, editions: EditionService, entries: EntryService,
                   agencies: AgencyService, attachments: AttachmentService) -> Template:
        return await self._page(request.user, editions, entries, agencies, attachments, {}, {})

    @post("/editions/{edition_id:int}/entries", name="award_enter", request_max_body_size=UPLOAD_LIMIT * 2)
    async def enter(self, request: Request, edition_id: Id, data: MultipartData, editions: EditionService,
                    entries: EntryService, agencies: AgencyService, attachments: AttachmentService) -> Any:
        form = {k: field(data, k) for k in data if k != "document_files"}
        try:
            # Every file is checked before the entry is saved: a refused one leaves nothing behind.
            files = await _checked_files(attachments, data.get("document_files"), field(data, "document_title"))
            entry = await entries.enter(request.user, edition_id, form)
            await add_documents(attachments, request.user, entry, files)
        except DomainError as exc:
            if exc.status_code not in (422, 503):
                raise
            # htmx swaps only 2xx answers: the page with its errors comes back as 200 to it.
            return await self._page(request.user, editions, entries, agencies, attachments, form, exc.errors,
                                    200 if is_htmx(request) else exc.status_code)
        return redirect_to(request, "award_agency", query={"saved": 1})


async def _checked_files(attachments: AttachmentService, value: Any, title: str) -> list[tuple[CleanFile, str]]:
    values = value if isinstance(value, list) else [value]
    uploads = [u for u in [await upload_of(v) for v in values] if u is not None]
    if len(uploads) > MAX_FILES_AT_ONCE:
        raise ValidationFailed(_("Attach at most %(n)s files at once.", n=MAX_FILES_AT_ONCE), field="document_files")
    title = " ".join(title.split())[:200] if len(uploads) == 1 else ""  # one title names one file
    return [(await attachments.check(upload, KINDS, "document_files"), title) for upload in uploads]
