"""Public feedback pages: give feedback (htmx form), receipt and tracking, the public board."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any
from urllib.parse import urlsplit

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.accounts.models import SubmitterKind, User
from voice.attachments.checks import Kind
from voice.attachments.services import AttachmentService
from voice.attachments.web.controllers import attachments as attachments_provider
from voice.attachments.web.uploads import UPLOAD_LIMIT, upload_of
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, ValidationFailed
from voice.feedback.board import BoardFilters, BoardService
from voice.feedback.controllers import providers
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission, validate
from voice.feedback.models import ATTACHMENT_OWNER, Channel, FeedbackKind, Status
from voice.feedback.tracking import TrackingService, normalize_tracking_code
from voice.i18n import get_locale
from voice.ids import MAX_ID
from voice.themes.edits import ThemeService
from voice.web.forms import FormData, MultipartData, field, is_htmx, redirect_to, safe_next, url
from voice.web.throttle import throttle

DEVICE_COOKIE = "voice_device"


def _network_key(request: Request) -> str:
    """The visitor's network address, keyed with the app's secret (so the stored digest cannot be turned
    back into an address by trying them all)."""
    host = request.client.host if request.client else "unknown"
    secret = request.app.state.settings.secret_key.encode()
    return "net:" + hmac.new(secret, host.encode(), hashlib.sha256).hexdigest()


def _same_site_referer(request: Request) -> str | None:
    """The page the visitor came from, if it is one of ours: only its path and query are kept."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host", ""):
        return None
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(target, "") or None


def _form_context(agencies: list[Agency], form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    chosen = next((a for a in agencies if a.slug == form.get("agency")), None)
    return {
        "agencies": agencies, "services": chosen.services if chosen else [], "form": form, "errors": errors,
        "kinds": list(FeedbackKind), "submitter_kinds": list(SubmitterKind),
    }


class FeedbackPages(Controller):
    dependencies = {"intake": providers.intake, "tracking": providers.tracking, "board": providers.board,
                    "agencies": Provide(create_service_provider(AgencyService)),
                    "themes": Provide(create_service_provider(ThemeService)), "attachments": attachments_provider}
    include_in_schema = False

    @get("/feedback/new", name="feedback_new")
    async def new(self, request: Request, agencies: AgencyService, agency: str | None = None) -> Template:
        user: User | None = request.scope.get("user")
        form = {"agency": agency or "", "kind": "complaint",
                "submitter_kind": user.kind.value if user else "individual", "publish": ""}
        return Template("feedback/new.html", context=_form_context(await agencies.catalogue(), form, {}))

    @get("/feedback/services", name="feedback_services")
    async def services(self, agencies: AgencyService, agency: str = "") -> Template:
        """The e-service picker for the chosen agency (an htmx partial)."""
        chosen = next((a for a in await agencies.catalogue() if a.slug == agency), None)
        return Template("feedback/partials/services.html",
                        context={"services": chosen.services if chosen else [], "form": {}, "errors": {}})

    @post("/feedback", name="feedback_submit", middleware=[throttle("feedback", 10)],
          request_max_body_size=UPLOAD_LIMIT)
    async def submit(self, request: Request, data: MultipartData, intake: IntakeService, agencies: AgencyService,
                     attachments: AttachmentService) -> Any:
        form = {k: field(data, k) for k in ("agency", "service", "kind", "submitter_kind", "rating",
                                            "body", "contact_email", "publish")}
        user: User | None = request.scope.get("user")
        submission = Submission(
            agency=form["agency"], service=form["service"] or None, kind=form["kind"],
            submitter_kind=form["submitter_kind"], rating=form["rating"], body=form["body"],
            contact_email=form["contact_email"] or None, publish=form["publish"] in ("on", "true", "1"),
            channel=Channel.MOBILE if "Mobi" in request.headers.get("user-agent", "") else Channel.WEB,
            language=get_locale(),
        )
        try:
            upload = await upload_of(data.get("screenshot"))
            # The screenshot is checked before anything is written: a refused file leaves no feedback behind.
            clean = await attachments.check(upload, (Kind.IMAGE,), "screenshot") if upload else None
            if clean is not None:
                intake.queue = None  # the item and its screenshot commit together, in this request's transaction
            item = await intake.submit(submission, user)
            if clean is not None:
                await attachments.add(clean, owner_kind=ATTACHMENT_OWNER, owner_id=item.id, uploaded_by=user)
        except DomainError as exc:
            errors = exc.errors
            if "screenshot" in errors:  # the text's own errors too, all at once
                try:
                    validate(submission, user)
                except ValidationFailed as text_errors:
                    errors = {**text_errors.errors, **errors}
            template = "feedback/partials/form.html" if is_htmx(request) else "feedback/new.html"
            # htmx swaps 2xx answers by default; the form with its errors replaces itself.
            return Template(template, context=_form_context(await agencies.catalogue(), form, errors),
                            status_code=200 if is_htmx(request) else exc.status_code,
                            headers={"HX-Retarget": "#feedback-form", "HX-Reswap": "outerHTML"}
                            if is_htmx(request) else None)
        # Post/redirect/get: the receipt lives at the item's tracking address, so a refresh, the back button or
        # a bookmark keeps the code. htmx follows HX-Redirect with a full page load.
        receipt = url(request, "track_item", code=item.tracking_code, query={"new": 1})
        if is_htmx(request):
            return Response(b"", status_code=200, headers={"HX-Redirect": receipt})
        return Redirect(receipt, status_code=303)

    @get("/track", name="track")
    async def track_form(self, request: Request, code: str | None = None) -> Any:
        if code:
            normalized = normalize_tracking_code(code)
            if normalized:
                return Redirect(url(request, "track_item", code=normalized))
            return Template("feedback/track.html", context={"code": code, "error": True}, status_code=404)
        return Template("feedback/track.html", context={"code": "", "error": False})

    @get("/track/{code:str}", name="track_item", middleware=[throttle("track", 60)])
    async def track(self, code: str, tracking: TrackingService, attachments: AttachmentService,
                    new: bool = False, sent: bool = False, done: str = "") -> Template:
        return await _tracked(tracking, code, {"new": new, "sent": sent, "done": done[:16]}, attachments=attachments)

    @post("/track/{code:str}/email", name="track_email", middleware=[throttle("track-email", 5)])
    async def email_code(self, request: Request, code: str, data: FormData, tracking: TrackingService) -> Any:
        """E-mail the tracking code to an address the person gives (the code is all it takes to follow)."""
        try:
            item = await tracking.email_code(code, field(data, "email"))
        except DomainError as exc:
            return await _tracked(tracking, code, {"new": True, "form": {"email": field(data, "email")},
                                                   "errors": exc.errors}, status_code=exc.status_code)
        return redirect_to(request, "track_item", code=item.tracking_code, query={"new": 1, "sent": 1})

    @post("/track/{code:str}/reply", name="track_reply", middleware=[throttle("track-reply", 10)])
    async def reply(self, request: Request, code: str, data: FormData, tracking: TrackingService) -> Any:
        """The person answers the agency's answer (a question back, a detail it asked for)."""
        try:
            item = await tracking.reply(code, field(data, "body"))
        except DomainError as exc:
            return await _tracked(tracking, code, {"form": {"body": field(data, "body")}, "errors": exc.errors},
                                  status_code=exc.status_code)
        return redirect_to(request, "track_item", code=item.tracking_code, query={"done": "reply"})

    @post("/track/{code:str}/fixed", name="track_fixed", middleware=[throttle("track-fixed", 10)])
    async def fixed(self, request: Request, code: str, data: FormData, tracking: TrackingService) -> Any:
        """"Was it fixed?" after resolution: yes confirms, no reopens the item with a new due date."""
        try:
            item = await tracking.was_it_fixed(code, field(data, "fixed"), field(data, "body"))
        except DomainError as exc:
            return await _tracked(tracking, code, {"form": {"body": field(data, "body")}, "errors": exc.errors},
                                  status_code=exc.status_code)
        done = "reopened" if not item.status.is_closed else "confirmed"
        return redirect_to(request, "track_item", code=item.tracking_code, query={"done": done})

    @post("/track/{code:str}/rating", name="track_rating", middleware=[throttle("rating", 10)])
    async def rate(self, request: Request, code: str, data: FormData, tracking: TrackingService) -> Any:
        item = await tracking.rate_answer(code, field(data, "satisfaction"))
        if is_htmx(request):
            return Template("feedback/partials/rated.html", context={"item": item})
        return redirect_to(request, "track_item", code=item.tracking_code)

    @get("/feedback", name="board")
    async def board_page(
        self,
        request: Request,
        board: BoardService,
        agencies: AgencyService,
        themes: ThemeService,
        attachments: AttachmentService,
        agency: str | None = None,
        service: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        theme: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        cursor: Annotated[str | None, Parameter(max_length=80)] = None,
    ) -> Template:
        filters = BoardFilters(agency=agency or None, service=service or None, kind=kind or None,
                               status=status or None, theme=theme, q=q or None, cursor=cursor)
        page = await board.board(filters)
        answers = await board.public_answers([i.id for i in page.items])
        # Screenshots show only once a moderator published them (voice.attachments decides).
        files = await attachments.published_for(ATTACHMENT_OWNER, [i.id for i in page.items])
        query = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
        next_url = url(request, "board", query={**query, "cursor": page.next_cursor}) if page.next_cursor else None
        viewer: User | None = request.scope.get("user")
        mine = await board.supported([i.id for i in page.items], viewer, None if viewer else _network_key(request))
        context = {"page": page, "answers": answers, "files": files, "filters": filters, "next_url": next_url,
                   "mine": mine}
        if is_htmx(request) and cursor:
            return Template("feedback/partials/board_items.html", context=context)
        catalogue = await agencies.catalogue()
        chosen = next((a for a in catalogue if a.slug == agency), None)
        context.update(agencies=catalogue, services=chosen.services if chosen else [],
                       themes=await themes.arranged(chosen.id) if chosen is not None else [],
                       kinds=list(FeedbackKind), statuses=list(Status))
        return Template("feedback/board.html", context=context)

    @get("/feedback/{feedback_id:int}", name="feedback_public")
    async def public_item(self, request: Request, feedback_id: Annotated[int, Parameter(ge=1, le=2**62)],
                          board: BoardService, attachments: AttachmentService) -> Template:
        """A published item's own page (the board links it; Open311 names it FB-<id>)."""
        item, events, answers = await board.public_page(feedback_id)
        files = await attachments.published_for(ATTACHMENT_OWNER, [item.id])
        viewer: User | None = request.scope.get("user")
        mine = await board.supported([item.id], viewer, None if viewer else _network_key(request))
        return Template("feedback/item.html", context={
            "item": item, "events": events, "answers": answers, "files": files.get(item.id, []), "mine": mine})

    @post("/feedback/{feedback_id:int}/support", name="support", middleware=[throttle("support", 30)])
    async def support(self, request: Request, feedback_id: int, board: BoardService) -> Any:
        user: User | None = request.scope.get("user")
        # Anonymous "me too" is counted once per network address (keyed, never stored in clear), not per
        # cookie: a visitor who drops the cookie, or never keeps one, would otherwise count every time.
        item, _added = await board.support(feedback_id, user, None if user else _network_key(request))
        if is_htmx(request):
            return Template("feedback/partials/support.html", context={"item": item, "supported": True})
        return Redirect(_same_site_referer(request) or url(request, "board"), status_code=303)

    @post("/feedback/{feedback_id:int}/support/undo", name="support_undo", middleware=[throttle("support", 30)])
    async def unsupport(self, request: Request, feedback_id: int, board: BoardService) -> Any:
        """Take a "me too" back: the button says it is pressed, pressing it again releases it."""
        user: User | None = request.scope.get("user")
        # The same key as "me too" itself: the person, or the network address (keyed) for anonymous visitors.
        item, _removed = await board.unsupport(feedback_id, user, None if user else _network_key(request))
        if is_htmx(request):
            return Template("feedback/partials/support.html", context={"item": item, "supported": False})
        return Redirect(_same_site_referer(request) or url(request, "board"), status_code=303)

    @post("/feedback/{feedback_id:int}/report", name="report", middleware=[throttle("report", 10)])
    async def report(self, request: Request, feedback_id: int, data: FormData, board: BoardService) -> Any:
        await board.report(feedback_id, field(data, "reason"), request.scope.get("user"),
                           request.cookies.get(DEVICE_COOKIE))
        if is_htmx(request):
            return Template("feedback/partials/reported.html", context={})
        return redirect_to(request, "board")


async def _tracked(tracking: TrackingService, code: str, extra: dict[str, Any], status_code: int = 200,
                   attachments: AttachmentService | None = None) -> Template:
    """The tracking page: the current status, the answers, the due date, and what the person can do next."""
    item = await tracking.by_tracking_code(code)
    events, answers = await tracking.public_history(item)
    # A tracking code is read aloud and shared: it shows that files were received, never the files.
    files = len(await attachments.for_owner(ATTACHMENT_OWNER, item.id)) if attachments is not None else 0
    context = {"item": item, "events": events, "answers": answers, "new": False, "sent": False, "done": "",
               "form": {}, "errors": {}, "files": files, **extra}
    return Template("feedback/tracked.html", context=context, status_code=status_code)
