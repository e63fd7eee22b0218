"""Consultation pages for everyone (the list, a consultation with its articles and comment forms, the
response report, printable and exportable) and the services they, the staff pages and the API receive."""

from __future__ import annotations

from typing import Annotated, Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.consultations.access import phase, today
from voice.consultations.insights import ConsultationInsightService, stance_counts
from voice.consultations.models import Consultation, ConsultationComment, Stance
from voice.consultations.participation import ConsultationParticipationService, speaker
from voice.consultations.response import ConsultationResponseService, ResponseReport
from voice.consultations.services import ConsultationService
from voice.errors import DomainError
from voice.i18n import _, get_locale
from voice.ids import MAX_ID, parse_id
from voice.labels import label
from voice.web.auth import admin, signed_in
from voice.web.exports import download
from voice.web.forms import FormData, field, is_htmx, redirect_to
from voice.web.throttle import throttle

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]

DEPENDENCIES = {
    "consultations": Provide(create_service_provider(ConsultationService)),
    "participation": Provide(create_service_provider(ConsultationParticipationService)),
    "insights": Provide(create_service_provider(ConsultationInsightService)),
    "responses": Provide(create_service_provider(ConsultationResponseService)),
}


def can_comment(viewer: Any, consultation: Consultation) -> str | None:
    """None when the viewer may comment now, else why not (shown instead of the form)."""
    if not consultation.is_open(today()):
        return _("This consultation is closed to comments.")
    if viewer is None:
        return _("Please sign in to comment.")
    try:
        speaker(viewer, consultation)
    except DomainError as exc:
        return exc.message
    return None


async def consultation_context(request: Request, consultation: Consultation,
                               participation: ConsultationParticipationService,
                               errors: dict[str, str] | None = None, form: dict | None = None) -> dict[str, Any]:
    viewer = request.scope.get("user")
    by_article: dict[int, list[ConsultationComment]] = {}
    replies: dict[int, list[ConsultationComment]] = {}
    for c in await participation.thread(consultation.id, moderator=bool(viewer and viewer.is_admin)):
        if c.parent_id:
            replies.setdefault(c.parent_id, []).append(c)
        else:
            by_article.setdefault(c.article_id, []).append(c)
    return {"consultation": consultation, "phase": phase(consultation), "viewer": viewer,
            "counts": await stance_counts(participation.session, consultation.id),
            "by_article": by_article, "replies": replies, "mine": await participation.mine(consultation.id, viewer),
            "blocked": can_comment(viewer, consultation), "stances": list(Stance),
            "errors": errors or {}, "form": form or {}, "locale": get_locale()}


class ConsultationPages(Controller):
    path = "/consultations"
    dependencies = DEPENDENCIES
    include_in_schema = False

    @get("/", name="consultations")
    async def browse(self, consultations: ConsultationService) -> Template:
        items = await consultations.public()
        return Template("consultations/list.html", context={
            "items": [(c, phase(c)) for c in items], "locale": get_locale()})

    @get("/{consultation_id:int}", name="consultation")
    async def show(self, request: Request, consultation_id: Id, consultations: ConsultationService,
                   participation: ConsultationParticipationService) -> Template:
        consultation = await consultations.visible(consultation_id, request.scope.get("user"))
        return Template("consultations/consultation.html",
                        context=await consultation_context(request, consultation, participation))

    @post("/{consultation_id:int}/comments", name="consultation_comment", guards=[signed_in],
          middleware=[throttle("consultation_comment", 30)])
    async def comment(self, request: Request, consultation_id: Id, data: FormData,
                      consultations: ConsultationService, participation: ConsultationParticipationService) -> Any:
        """Give a view on an article, or change one's own (the form carries its id)."""
        article, stance, body = field(data, "article"), field(data, "stance"), field(data, "body")
        own = parse_id(field(data, "comment_id"))
        try:
            if own:
                comment = await participation.edit(own, request.user, stance, body)
            else:
                comment = await participation.comment(consultation_id, request.user, article, stance, body)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            consultation = await consultations.visible(consultation_id, request.user)
            context = await consultation_context(request, consultation, participation, exc.errors or
                                                 {"body": exc.message}, {"article": article, "body": body,
                                                                         "stance": stance})
            return Template("consultations/consultation.html", context=context, status_code=exc.status_code)
        return redirect_to(request, "consultation", consultation_id=consultation_id, anchor=f"c-{comment.id}")

    @post("/{consultation_id:int}/replies", name="consultation_reply", guards=[signed_in],
          middleware=[throttle("consultation_comment", 30)])
    async def reply(self, request: Request, consultation_id: Id, data: FormData,
                    participation: ConsultationParticipationService) -> Redirect:
        comment = await participation.reply(consultation_id, request.user, parse_id(field(data, "parent_id")) or 0,
                                            field(data, "body"))
        return redirect_to(request, "consultation", consultation_id=consultation_id, anchor=f"c-{comment.id}")

    @post("/comments/{comment_id:int}/report", name="consultation_comment_report",
          middleware=[throttle("consultation_report", 10)])
    async def report_comment(self, request: Request, comment_id: Id, data: FormData,
                             participation: ConsultationParticipationService) -> Any:
        report = await participation.report(comment_id, field(data, "reason"), request.scope.get("user"))
        if is_htmx(request):
            return Template("feedback/partials/reported.html", context={})
        return redirect_to(request, "consultation", consultation_id=report.consultation_id)

    @post("/comments/{comment_id:int}/moderate", name="consultation_comment_moderate", guards=[admin])
    async def moderate(self, request: Request, comment_id: Id, data: FormData,
                       participation: ConsultationParticipationService) -> Redirect:
        comment = await participation.moderate(request.user, comment_id, field(data, "action") == "hide",
                                               field(data, "reason"))
        return redirect_to(request, "consultation", consultation_id=comment.consultation_id, anchor=f"c-{comment.id}")

    @get("/{consultation_id:int}/report", name="consultation_report")
    async def report(self, request: Request, consultation_id: Id, responses: ConsultationResponseService) -> Template:
        report = await responses.public(consultation_id, request.scope.get("user"))
        return Template("consultations/report.html", context={"report": report, "c": report.consultation,
                                                              "locale": get_locale()})

    @get("/{consultation_id:int}/report/export/{fmt:str}", name="consultation_report_export")
    async def export(self, request: Request, consultation_id: Id, fmt: str,
                     responses: ConsultationResponseService) -> Response[bytes]:
        report = await responses.public(consultation_id, request.scope.get("user"))
        header, rows = report_table(report)
        return download(f"consultation-{consultation_id}-report", fmt, header, rows)


def report_table(report: ResponseReport) -> tuple[list[str], list[list[Any]]]:
    """The report as one row per article, for CSV and XLSX."""
    header = [_("Article"), _("Title"), label("support"), label("oppose"), label("suggest"), _("Themes"),
              _("Decision"), _("Reason"), _("Draft text"), _("New text")]
    rows = [[r.article.number, r.article.title, r.counts["support"], r.counts["oppose"], r.counts["suggest"],
             " · ".join(t.label for t, _n in r.themes), label(r.article.decision) if r.article.decision else "",
             r.article.reason or "", r.article.body, r.article.amended_body or ""] for r in report.rows]
    return header, rows
