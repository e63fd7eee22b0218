"""Public feedback pages: give feedback (htmx form), receipt and tracking, the public board."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import Scope
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import SubmitterKind, User
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError
from voice.feedback.models import Channel, FeedbackKind, Status
from voice.feedback.services import BoardFilters, FeedbackService, Submission
from voice.i18n import get_locale
from voice.themes.models import Theme
from voice.web.forms import FormData, field, is_htmx
from voice.web.throttle import throttle

DEVICE_COOKIE = "voice_device"


def provide_feedback(state: State, scope: Scope) -> FeedbackService:
    """The request's FeedbackService; its session (the request's own) is opened on first use."""
    db_config = state.db_config
    return FeedbackService(lambda: db_config.provide_session(state, scope), intake=state.get("intake"))


def _form_context(agencies: list[Agency], form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    chosen = next((a for a in agencies if a.slug == form.get("agency")), None)
    return {
        "agencies": agencies, "services": chosen.services if chosen else [], "form": form, "errors": errors,
        "kinds": list(FeedbackKind), "submitter_kinds": list(SubmitterKind),
    }


class FeedbackPages(Controller):
    dependencies = {"feedback": Provide(provide_feedback, sync_to_thread=False)}
    include_in_schema = False

    @get("/feedback/new", name="feedback_new")
    async def new(self, request: Request, db_session: AsyncSession, agency: str | None = None) -> Template:
        agencies = await AgencyService(session=db_session).catalogue()
        user: User | None = request.scope.get("user")
        form = {"agency": agency or "", "kind": "complaint",
                "submitter_kind": user.kind.value if user else "individual", "publish": ""}
        return Template("feedback/new.html", context=_form_context(agencies, form, {}))

    @get("/feedback/services", name="feedback_services")
    async def services(self, db_session: AsyncSession, agency: str = "") -> Template:
        """The e-service picker for the chosen agency (an htmx partial)."""
        agencies = await AgencyService(session=db_session).catalogue()
        chosen = next((a for a in agencies if a.slug == agency), None)
        return Template("feedback/partials/services.html",
                        context={"services": chosen.services if chosen else [], "form": {}, "errors": {}})

    @post("/feedback", name="feedback_submit", middleware=[throttle("feedback", 10)])
    async def submit(self, request: Request, data: FormData, feedback: FeedbackService,
                     db_session: AsyncSession) -> Any:
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
            item = await feedback.submit(submission, user)
        except DomainError as exc:
            agencies = await AgencyService(session=db_session).catalogue()
            template = "feedback/partials/form.html" if is_htmx(request) else "feedback/new.html"
            # htmx swaps 2xx answers by default; the form with its errors replaces itself.
            return Template(template, context=_form_context(agencies, form, exc.errors),
                            status_code=200 if is_htmx(request) else exc.status_code,
                            headers={"HX-Retarget": "#feedback-form", "HX-Reswap": "outerHTML"}
                            if is_htmx(request) else None)
        if is_htmx(request):
            return Template("feedback/partials/receipt.html", context={"item": item},
                            headers={"HX-Retarget": "#feedback-form", "HX-Reswap": "outerHTML"})
        return Redirect(f"/track/{item.tracking_code}?new=1", status_code=HTTP_303_SEE_OTHER)

    @get("/track", name="track")
    async def track_form(self, code: str | None = None) -> Any:
        from voice.feedback.services import normalize_tracking_code

        if code:
            normalized = normalize_tracking_code(code)
            if normalized:
                return Redirect(f"/track/{normalized}")
            return Template("feedback/track.html", context={"code": code, "error": True}, status_code=404)
        return Template("feedback/track.html", context={"code": "", "error": False})

    @get("/track/{code:str}", name="track_item", middleware=[throttle("track", 60)])
    async def track(self, code: str, feedback: FeedbackService, new: bool = False) -> Template:
        item = await feedback.by_tracking_code(code)
        events, answers = await feedback.public_history(item)
        return Template("feedback/tracked.html",
                        context={"item": item, "events": events, "answers": answers, "new": new})

    @post("/track/{code:str}/rating", name="track_rating", middleware=[throttle("rating", 10)])
    async def rate(self, request: Request, code: str, data: FormData, feedback: FeedbackService) -> Any:
        item = await feedback.rate_answer(code, field(data, "satisfaction"))
        if is_htmx(request):
            return Template("feedback/partials/rated.html", context={"item": item})
        return Redirect(f"/track/{item.tracking_code}", status_code=HTTP_303_SEE_OTHER)

    @get("/feedback", name="board")
    async def board(
        self,
        request: Request,
        feedback: FeedbackService,
        db_session: AsyncSession,
        agency: str | None = None,
        service: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        theme: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        cursor: Annotated[str | None, Parameter(max_length=80)] = None,
    ) -> Template:
        filters = BoardFilters(agency=agency or None, service=service or None, kind=kind or None,
                               status=status or None, theme=theme, q=q or None, cursor=cursor)
        page = await feedback.board(filters)
        answers = await feedback.public_answers([i.id for i in page.items])
        query = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
        next_url = f"/feedback?{urlencode({**query, 'cursor': page.next_cursor})}" if page.next_cursor else None
        context = {"page": page, "answers": answers, "filters": filters, "next_url": next_url}
        if is_htmx(request) and cursor:
            return Template("feedback/partials/board_items.html", context=context)
        agencies = await AgencyService(session=db_session).catalogue()
        themes = []
        chosen = next((a for a in agencies if a.slug == agency), None)
        if chosen is not None:
            themes = (await db_session.scalars(select(Theme).where(
                Theme.agency_id == chosen.id, Theme.scope == "feedback", Theme.retired.is_(False))
                .order_by(Theme.size.desc()))).all()
        context.update(agencies=agencies, services=chosen.services if chosen else [], themes=themes,
                       kinds=list(FeedbackKind), statuses=list(Status))
        return Template("feedback/board.html", context=context)

    @post("/feedback/{feedback_id:int}/support", name="support", middleware=[throttle("support", 30)])
    async def support(self, request: Request, feedback_id: int, feedback: FeedbackService) -> Any:
        user: User | None = request.scope.get("user")
        device = request.cookies.get(DEVICE_COOKIE)
        new_device = None
        if user is None and not device:
            device = new_device = secrets.token_urlsafe(24)
        item, _added = await feedback.support(feedback_id, user, device)
        response: Response[Any]
        if is_htmx(request):
            response = Template("feedback/partials/support.html", context={"item": item, "supported": True})
        else:
            response = Redirect(request.headers.get("referer") or "/feedback", status_code=HTTP_303_SEE_OTHER)
        if new_device:
            settings = request.app.state.settings
            response.cookies.append(Cookie(key=DEVICE_COOKIE, value=new_device, max_age=365 * 24 * 3600,
                                           httponly=True, samesite="lax", secure=settings.secure_cookies))
        return response

    @post("/feedback/{feedback_id:int}/report", name="report", middleware=[throttle("report", 10)])
    async def report(self, request: Request, feedback_id: int, data: FormData, feedback: FeedbackService) -> Any:
        await feedback.report(feedback_id, field(data, "reason"), request.scope.get("user"),
                              request.cookies.get(DEVICE_COOKIE))
        if is_htmx(request):
            return Template("feedback/partials/reported.html", context={})
        return Redirect("/feedback", status_code=HTTP_303_SEE_OTHER)
