"""Staff pages for consultations: the agency's list, drafting and editing articles, publishing, extending
and closing, reading stances and themes per article, and writing the response report."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.attachments.services import AttachmentService
from voice.attachments.web.controllers import attachments as attachments_provider
from voice.attachments.web.uploads import UPLOAD_LIMIT, upload_of
from voice.consultations.access import phase, window_ended
from voice.consultations.controllers import DEPENDENCIES
from voice.consultations.insights import ConsultationInsightService
from voice.consultations.models import Consultation, Decision
from voice.consultations.response import ArticleDecision, ConsultationResponseService
from voice.consultations.services import AUDIENCES, ArticleDraft, ConsultationDraft, ConsultationService
from voice.errors import DomainError
from voice.i18n import get_locale
from voice.ids import MAX_ID
from voice.web.auth import agency_member
from voice.web.forms import FormData, MultipartData, field, redirect_to

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]
SPARE_ROWS = 5
MAX_ROWS = 200


def _draft_from_form(data: dict[str, Any]) -> tuple[ConsultationDraft, dict[str, Any]]:
    """The draft a staff form describes, and the form's values to show again on an error."""
    rows = min(int(field(data, "rows", "0") or 0) if field(data, "rows", "0").isdigit() else 0, MAX_ROWS)
    articles = []
    for i in range(rows):
        number, title, text = (field(data, f"a_number_{i}").strip(), field(data, f"a_title_{i}"),
                               field(data, f"a_text_{i}"))
        if number or title.strip() or text.strip():
            articles.append(ArticleDraft(number=number or "0", title=title, text=text))
    audience = data.get("audience") or []
    audience = [audience] if isinstance(audience, str) else list(audience)
    form = {k: field(data, k) for k in ("title_ar", "title_en", "summary_ar", "summary_en", "opens_on", "closes_on",
                                        "agency")}
    form["audience"] = audience
    form["articles"] = [{"number": a.number, "title": a.title, "text": a.text} for a in articles]
    draft = ConsultationDraft(title_ar=form["title_ar"], summary_ar=form["summary_ar"], title_en=form["title_en"],
                              summary_en=form["summary_en"], opens_on=form["opens_on"], closes_on=form["closes_on"],
                              audience=audience, articles=articles, agency=form["agency"] or None)
    return draft, form


def _form_of(c: Consultation) -> dict[str, Any]:
    return {"title_ar": c.title_ar, "title_en": c.title_en or "", "summary_ar": c.summary_ar,
            "summary_en": c.summary_en or "", "opens_on": c.opens_on.isoformat(), "closes_on": c.closes_on.isoformat(),
            "audience": list(c.audience or []),
            "articles": [{"number": a.number, "title": a.title, "text": a.body} for a in c.articles]}


def _editor(form: dict[str, Any], errors: dict[str, str], consultation: Consultation | None = None,
            status_code: int = 200, agencies: list | None = None) -> Template:
    return Template("consultations/staff/edit.html", status_code=status_code, context={
        "form": form, "errors": errors, "consultation": consultation, "audiences": AUDIENCES,
        "rows": len(form.get("articles", [])) + SPARE_ROWS, "agencies": agencies or []})


def _decisions(data: dict[str, Any], consultation: Consultation) -> list[ArticleDecision]:
    decisions = []
    for a in consultation.articles:
        choice = field(data, f"decision_{a.number}").strip()
        if choice:
            decisions.append(ArticleDecision(number=a.number, decision=choice, reason=field(data, f"reason_{a.number}"),
                                             amended_text=field(data, f"text_{a.number}"),
                                             title=a.title if a.added_in_report else None))
    if field(data, "add_text").strip() or field(data, "add_number").strip():
        decisions.append(ArticleDecision(number=field(data, "add_number") or "0", decision=Decision.ADDED.value,
                                         reason=field(data, "add_reason"), amended_text=field(data, "add_text"),
                                         title=field(data, "add_title")))
    return decisions


class ConsultationStaffPages(Controller):
    path = "/agency/consultations"
    guards = [agency_member]
    dependencies = DEPENDENCIES
    include_in_schema = False

    @get("/", name="consultation_staff")
    async def index(self, request: Request, consultations: ConsultationService) -> Template:
        items = await consultations.for_agency(request.user)
        return Template("consultations/staff/index.html", context={
            "items": [(c, phase(c)) for c in items], "locale": get_locale()})

    @get("/new", name="consultation_new")
    async def new(self, request: Request, consultations: ConsultationService) -> Template:
        return _editor({"audience": list(AUDIENCES), "articles": []}, {},
                       agencies=await consultations.agencies_to_name(request.user))

    @post("/", name="consultation_create")
    async def create(self, request: Request, data: FormData, consultations: ConsultationService) -> Any:
        draft, form = _draft_from_form(data)
        try:
            c = await consultations.create(request.user, draft)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return _editor(form, exc.errors or {"form": exc.message}, status_code=exc.status_code,
                           agencies=await consultations.agencies_to_name(request.user))
        return redirect_to(request, "consultation_manage", consultation_id=c.id)

    @get("/{consultation_id:int}/edit", name="consultation_edit")
    async def edit(self, request: Request, consultation_id: Id, consultations: ConsultationService) -> Template:
        c = await consultations.managed(request.user, consultation_id)
        return _editor(_form_of(c), {}, c)

    @post("/{consultation_id:int}/edit", name="consultation_update")
    async def update(self, request: Request, consultation_id: Id, data: FormData,
                     consultations: ConsultationService) -> Any:
        draft, form = _draft_from_form(data)
        try:
            c = await consultations.update(request.user, consultation_id, draft)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            c = await consultations.managed(request.user, consultation_id)
            return _editor(form, exc.errors or {"form": exc.message}, c, status_code=exc.status_code)
        return redirect_to(request, "consultation_manage", consultation_id=c.id)

    @post("/{consultation_id:int}/draft-document", name="consultation_draft_document",
          request_max_body_size=UPLOAD_LIMIT, dependencies={"attachments": attachments_provider})
    async def draft_document(self, request: Request, consultation_id: Id, data: MultipartData,
                             consultations: ConsultationService, attachments: AttachmentService) -> Any:
        """The full draft as a PDF, sent from the edit page (its own form: the articles' form stays plain)."""
        try:
            await consultations.attach_draft(request.user, consultation_id, await upload_of(data.get("draft_document")),
                                             attachments)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            c = await consultations.managed(request.user, consultation_id)
            return _editor(_form_of(c), exc.errors or {"draft_document": exc.message}, c, status_code=exc.status_code)
        return redirect_to(request, "consultation_edit", consultation_id=consultation_id)

    @get("/{consultation_id:int}", name="consultation_manage")
    async def manage(self, request: Request, consultation_id: Id, insights: ConsultationInsightService,
                     error: str | None = None) -> Template:
        view = await insights.read(request.user, consultation_id)
        c = view.consultation
        return Template("consultations/staff/manage.html", context={
            "view": view, "c": c, "phase": phase(c), "ended": window_ended(c), "locale": get_locale(),
            "decisions": [d.value for d in Decision if d is not Decision.ADDED], "errors": {}, "form": {}})

    async def _act(self, request: Request, consultation_id: int, action: Any, insights: ConsultationInsightService,
                   data: dict[str, Any] | None = None) -> Any:
        """Run a staff action; a refusal shows the management page again with the reason."""
        try:
            await action()
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            view = await insights.read(request.user, consultation_id)
            c = view.consultation
            return Template("consultations/staff/manage.html", status_code=exc.status_code, context={
                "view": view, "c": c, "phase": phase(c), "ended": window_ended(c), "locale": get_locale(),
                "decisions": [d.value for d in Decision if d is not Decision.ADDED],
                "errors": exc.errors or {"form": exc.message}, "message": exc.message, "form": data or {}})
        return redirect_to(request, "consultation_manage", consultation_id=consultation_id)

    @post("/{consultation_id:int}/publish", name="consultation_publish")
    async def publish(self, request: Request, consultation_id: Id, consultations: ConsultationService,
                      insights: ConsultationInsightService) -> Any:
        return await self._act(request, consultation_id,
                               lambda: consultations.publish(request.user, consultation_id), insights)

    @post("/{consultation_id:int}/extend", name="consultation_extend")
    async def extend(self, request: Request, consultation_id: Id, data: FormData,
                     consultations: ConsultationService, insights: ConsultationInsightService) -> Any:
        return await self._act(request, consultation_id, lambda: consultations.extend(
            request.user, consultation_id, field(data, "closes_on")), insights, data)

    @post("/{consultation_id:int}/close", name="consultation_close")
    async def close(self, request: Request, consultation_id: Id, data: FormData,
                    consultations: ConsultationService, insights: ConsultationInsightService) -> Any:
        return await self._act(request, consultation_id, lambda: consultations.close(
            request.user, consultation_id, field(data, "reason")), insights, data)

    @post("/{consultation_id:int}/themes", name="consultation_themes_refresh")
    async def refresh(self, request: Request, consultation_id: Id, insights: ConsultationInsightService) -> Redirect:
        await insights.refresh_themes(request.user, consultation_id)
        return redirect_to(request, "consultation_manage", consultation_id=consultation_id, anchor="themes")

    @post("/{consultation_id:int}/report", name="consultation_report_save")
    async def report(self, request: Request, consultation_id: Id, data: FormData, consultations: ConsultationService,
                     responses: ConsultationResponseService, insights: ConsultationInsightService) -> Any:
        c = await consultations.managed(request.user, consultation_id)
        decisions = _decisions(data, c)
        publish = field(data, "publish") == "1"
        result = await self._act(request, consultation_id, lambda: responses.record(
            request.user, consultation_id, decisions, summary=field(data, "summary"), publish=publish), insights, data)
        if isinstance(result, Redirect) and publish:
            return redirect_to(request, "consultation_report", consultation_id=consultation_id)
        return result
