"""The agency's inbox and one item: reading it (the original text too), answering, moving its status,
approving it for the board, assigning, noting and transferring it; the transfers list."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SubmitterKind, User
from voice.attachments.services import AttachmentService
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError
from voice.feedback.lifecycle import LifecycleService, next_statuses
from voice.feedback.models import ATTACHMENT_OWNER, FeedbackKind, Status
from voice.feedback.moderation import ModerationService
from voice.ids import MAX_ID, parse_id
from voice.themes.edits import ThemeService
from voice.web.forms import FormData, field, redirect_to
from voice.workspace.access import agency_of
from voice.workspace.controllers.base import WorkspacePages
from voice.workspace.inbox import INBOX_PAGE, InboxFilters, InboxService
from voice.workspace.transfers import TransferService

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


def inbox_filters(request: Request) -> InboxFilters:
    """The inbox's filters from the query string (the page, its exports and the agency API share them)."""
    q = request.query_params

    def number(name: str, top: int = MAX_ID) -> int | None:
        value = parse_id(q.get(name))
        return value if value is not None and value <= top else None

    return InboxFilters(theme=number("theme"), status=q.get("status") or None, kind=q.get("kind") or None,
                        submitter_kind=q.get("submitter_kind") or None, service=q.get("service") or None,
                        overdue=q.get("overdue") in ("1", "on", "true"), rating=number("rating", 5),
                        assignee=number("assignee"), q=(q.get("q") or "")[:200] or None,
                        sort=q.get("sort") or "newest", page=number("page", 10_000) or 1)


class InboxPages(WorkspacePages):

    @get("/inbox", name="inbox")
    async def inbox_page(self, request: Request, inbox: InboxService, themes: ThemeService,
                         db_session: AsyncSession) -> Template:
        agency_id = agency_of(request.user)
        f = inbox_filters(request)
        items, total = await inbox.inbox(agency_id, f)
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return Template("workspace/inbox.html", context={
            "items": items, "total": total, "filters": f, "agency": await db_session.get_one(Agency, agency_id),
            "themes": await themes.active(agency_id, order="label"), "staff": await inbox.staff(agency_id),
            "statuses": list(Status), "kinds": list(FeedbackKind), "submitter_kinds": list(SubmitterKind),
            "query": query, "page_size": INBOX_PAGE, "now": datetime.now(UTC)})

    @get("/feedback", name="agency_feedback")
    async def recent(self, request: Request, lifecycle: LifecycleService) -> Template:
        return Template("agency/feedback_list.html", context={"items": await lifecycle.agency_recent(request.user)})

    @get("/feedback/{feedback_id:int}", name="agency_feedback_item")
    async def item(self, request: Request, feedback_id: Id, lifecycle: LifecycleService, inbox: InboxService,
                   agencies: AgencyService) -> Template:
        return await _item_page(request.user, feedback_id, lifecycle, inbox, agencies)

    @post("/feedback/{feedback_id:int}/answer", name="agency_answer")
    async def answer(self, request: Request, feedback_id: Id, data: FormData, lifecycle: LifecycleService,
                     inbox: InboxService, agencies: AgencyService) -> Any:
        body = field(data, "body")
        done = lifecycle.answer(request.user, feedback_id, body, public=field(data, "visibility") != "private")
        return await _then_item(request, feedback_id, done, {"body": body, "visibility": field(data, "visibility")},
                                lifecycle, inbox, agencies)

    @post("/feedback/{feedback_id:int}/status", name="agency_status")
    async def status(self, request: Request, feedback_id: Id, data: FormData, lifecycle: LifecycleService,
                     inbox: InboxService, agencies: AgencyService) -> Any:
        reason = field(data, "reason")
        done = lifecycle.change_status(request.user, feedback_id, field(data, "status"), reason)
        return await _then_item(request, feedback_id, done, {"reason": reason, "status": field(data, "status")}, lifecycle, inbox, agencies)

    @post("/feedback/{feedback_id:int}/approve", name="agency_approve")
    async def approve(self, request: Request, feedback_id: Id, moderation: ModerationService) -> Redirect:
        await moderation.moderate(request.user, feedback_id, "approve", None)
        return redirect_to(request, "agency_feedback_item", feedback_id=feedback_id)

    @post("/feedback/{feedback_id:int}/note", name="item_note")
    async def note(self, request: Request, feedback_id: Id, data: FormData, inbox: InboxService) -> Redirect:
        await inbox.add_note(request.user, feedback_id, field(data, "note"))
        return redirect_to(request, "agency_feedback_item", feedback_id=feedback_id)

    @post("/feedback/{feedback_id:int}/assign", name="item_assign")
    async def assign(self, request: Request, feedback_id: Id, data: FormData, inbox: InboxService) -> Redirect:
        await inbox.assign(request.user, feedback_id, parse_id(field(data, "assignee")))
        return redirect_to(request, "agency_feedback_item", feedback_id=feedback_id)

    @post("/feedback/{feedback_id:int}/transfer", name="item_transfer")
    async def transfer(self, request: Request, feedback_id: Id, data: FormData,
                       transfers: TransferService) -> Redirect:
        await transfers.transfer(request.user, feedback_id, field(data, "agency"), field(data, "reason"))
        return redirect_to(request, "transfers")

    @get("/transfers", name="transfers")
    async def transfers_page(self, request: Request, transfers: TransferService) -> Template:
        agency_id = agency_of(request.user)
        return Template("workspace/transfers.html", context={
            "transfers": await transfers.for_agency(agency_id), "agency_id": agency_id})


async def _then_item(request: Request, feedback_id: int, action: Awaitable[object], typed: dict[str, str],
                     lifecycle: LifecycleService, inbox: InboxService, agencies: AgencyService) -> Any:
    """Run a form's action on the item, then back to its page (post/redirect/get); a refusal shows the
    page again with the errors and what was typed, and "not found" stays a 404."""
    try:
        await action
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return await _item_page(request.user, feedback_id, lifecycle, inbox, agencies, exc, typed)
    return redirect_to(request, "agency_feedback_item", feedback_id=feedback_id)


async def _item_page(user: User, feedback_id: int, lifecycle: LifecycleService, inbox: InboxService,
                     agencies: AgencyService, error: DomainError | None = None, form: dict | None = None) -> Template:
    """The item's page; after a refused answer or status change, again with the errors and what was typed."""
    item = await lifecycle.for_agency(user, feedback_id)
    events, answers = await lifecycle.agency_history(item)
    files = await AttachmentService(session=lifecycle.session).for_owner(ATTACHMENT_OWNER, item.id)
    return Template("agency/feedback_item.html", status_code=error.status_code if error else 200, context={
        "files": files,
        "staff": await inbox.staff(item.agency_id), "agencies": await agencies.catalogue(),
        "item": item, "events": events, "answers": answers, "next_statuses": next_statuses(item.status),
        "errors": error.errors if error else {}, "form": form or {}})
