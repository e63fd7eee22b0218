"""E-contribution pages: browse ideas, share one (with live similar-idea suggestions), the idea page
with votes, threaded comments and reports, staff actions on it, and the moderators' queue."""

from __future__ import annotations

from typing import Annotated, Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.authoring import IdeaAuthorService
from ideas.lifecycle import IdeaLifecycleService
from ideas.models import IdeaCategory, IdeaStatus
from ideas.moderation import IdeaModerationService
from ideas.participation import IdeaParticipationService
from ideas.services import SORTS, IdeaDraft, IdeaFilters, IdeaService
from ideas.settings import IdeasSettings
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, ValidationFailed
from voice.i18n import _, get_locale
from voice.ids import MAX_ID, parse_id
from voice.themes.edits import ThemeService
from voice.themes.services import request_refresh
from voice.web.auth import admin, signed_in
from voice.web.forms import FormData, field, is_htmx, redirect_to, url
from voice.web.throttle import throttle

IdeaId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
DRAFT_FIELDS = ("title", "description", "problem", "category", "agency", "service")


def ideas_settings(state: State) -> IdeasSettings:
    """The app's ideas section, read once at start-up (a test app may run another mode)."""
    return state.sections["ideas"]


# Every ideas page and the API take their services from here.
DEPENDENCIES = {
    "ideas": Provide(create_service_provider(IdeaService)),
    "authoring": Provide(create_service_provider(IdeaAuthorService)),
    "participation": Provide(create_service_provider(IdeaParticipationService)),
    "lifecycle": Provide(create_service_provider(IdeaLifecycleService)),
    "moderation": Provide(create_service_provider(IdeaModerationService)),
    "agencies": Provide(create_service_provider(AgencyService)),
    "themes": Provide(create_service_provider(ThemeService)),
    "ideas_settings": Provide(ideas_settings, sync_to_thread=False),
}


def _form_context(agencies: list[Agency], form: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    chosen = next((a for a in agencies if a.slug == form.get("agency")), None)
    return {"agencies": agencies, "services": chosen.services if chosen else [], "form": form, "errors": errors,
            "categories": list(IdeaCategory)}


class IdeaPages(Controller):
    path = "/ideas"
    dependencies = DEPENDENCIES
    include_in_schema = False

    @get("/", name="ideas")
    async def browse(
        self,
        request: Request,
        ideas: IdeaService,
        agencies: AgencyService,
        themes: ThemeService,
        agency: str | None = None,
        category: str | None = None,
        status: str | None = None,
        theme: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        sort: str = "trending",
        page: Annotated[int, Parameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        filters = IdeaFilters(agency=agency or None, category=category or None, status=status or None,
                              theme=theme, q=q or None, sort=sort if sort in SORTS else "trending", page=page)
        result = await ideas.browse(filters)
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        next_url = url(request, "ideas", query={**query, "page": result.page + 1}) if result.has_next else None
        context = {"result": result, "filters": filters, "next_url": next_url}
        if is_htmx(request) and page > 1:
            return Template("ideas/partials/items.html", context=context)
        context.update(agencies=await agencies.catalogue(), categories=list(IdeaCategory), statuses=list(IdeaStatus),
                       sorts=SORTS, themes=await themes.active(None, scope="ideas"))
        return Template("ideas/browse.html", context=context)

    @get("/new", name="idea_new", guards=[signed_in])
    async def new(self, agencies: AgencyService, agency: str | None = None) -> Template:
        form = {"agency": agency or "", "category": IdeaCategory.OTHER.value}
        return Template("ideas/new.html", context=_form_context(await agencies.catalogue(), form, {}))

    @get("/services", name="idea_services")
    async def services(self, agencies: AgencyService, agency: str = "") -> Template:
        chosen = next((a for a in await agencies.catalogue() if a.slug == agency), None)
        return Template("feedback/partials/services.html",
                        context={"services": chosen.services if chosen else [], "form": {}, "errors": {}})

    @get("/similar-panel", name="idea_similar_panel")
    async def similar_panel(
        self,
        request: Request,
        ideas: IdeaService,
        title: Annotated[str, Parameter(max_length=1000)] = "",
        description: Annotated[str, Parameter(max_length=5000)] = "",
    ) -> Template:
        """Ideas that already say what the person is typing, with a vote button on each (htmx)."""
        hits = await ideas.similar(f"{title}\n{description}", k=5)
        return Template("ideas/partials/similar.html",
                        context={"hits": hits, "viewer": request.scope.get("user")})

    @post("/", name="idea_submit", guards=[signed_in], middleware=[throttle("idea_post", 5)])
    async def submit(self, request: Request, data: FormData, ideas: IdeaService, agencies: AgencyService,
                     ideas_settings: IdeasSettings) -> Any:
        form = {k: field(data, k) for k in DRAFT_FIELDS}
        draft = IdeaDraft(title=form["title"], description=form["description"], problem=form["problem"],
                          category=form["category"], agency=form["agency"] or None, service=form["service"] or None,
                          language=get_locale())
        try:
            idea = await ideas.submit(draft, request.user, settings=ideas_settings)
        except DomainError as exc:
            if exc.status_code == 403:
                raise
            return Template("ideas/new.html", context=_form_context(await agencies.catalogue(), form, exc.errors),
                            status_code=exc.status_code)
        return redirect_to(request, "idea", idea_id=idea.id, query={"new": 1})

    @get("/{idea_id:int}", name="idea")
    async def show(self, request: Request, idea_id: IdeaId, ideas: IdeaService, new: bool = False) -> Template:
        view = await ideas.view(idea_id, request.scope.get("user"))
        return Template("ideas/idea.html", context={"view": view, "idea": view.idea, "new": new, "errors": {},
                                                    "form": {}, "viewer": request.scope.get("user")})

    @get("/{idea_id:int}/edit", name="idea_edit_form", guards=[signed_in])
    async def edit_form(self, request: Request, idea_id: IdeaId, ideas: IdeaService,
                        authoring: IdeaAuthorService) -> Template:
        idea = await ideas.visible(idea_id, request.user)
        authoring.require_change(request.user, idea)
        form = {"title": idea.title, "description": idea.description, "problem": idea.problem}
        return Template("ideas/edit.html", context={"idea": idea, "form": form, "errors": {}})

    @post("/{idea_id:int}/edit", name="idea_edit", guards=[signed_in], middleware=[throttle("idea_post", 10)])
    async def edit(self, request: Request, idea_id: IdeaId, data: FormData, ideas: IdeaService,
                   authoring: IdeaAuthorService) -> Any:
        form = {k: field(data, k) for k in ("title", "description", "problem")}
        try:
            await authoring.edit(request.user, idea_id, IdeaDraft(title=form["title"], description=form["description"],
                                                                  problem=form["problem"]))
        except ValidationFailed as exc:
            idea = await ideas.visible(idea_id, request.user)
            return Template("ideas/edit.html", context={"idea": idea, "form": form, "errors": exc.errors},
                            status_code=exc.status_code)
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/{idea_id:int}/withdraw", name="idea_withdraw", guards=[signed_in])
    async def withdraw(self, request: Request, idea_id: IdeaId, authoring: IdeaAuthorService) -> Redirect:
        await authoring.withdraw(request.user, idea_id)
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/{idea_id:int}/vote", name="idea_vote", guards=[signed_in], middleware=[throttle("idea_vote", 60)])
    async def vote(self, request: Request, idea_id: IdeaId, participation: IdeaParticipationService) -> Any:
        idea, _new = await participation.vote(idea_id, request.user)
        return self._vote_answer(request, idea, voted=True)

    @post("/{idea_id:int}/unvote", name="idea_unvote", guards=[signed_in], middleware=[throttle("idea_vote", 60)])
    async def unvote(self, request: Request, idea_id: IdeaId, participation: IdeaParticipationService) -> Any:
        idea, _removed = await participation.unvote(idea_id, request.user)
        return self._vote_answer(request, idea, voted=False)

    def _vote_answer(self, request: Request, idea: Any, voted: bool) -> Any:
        if is_htmx(request):
            return Template("ideas/partials/vote.html", context={"idea": idea, "voted": voted})
        return redirect_to(request, "idea", idea_id=idea.id)

    @post("/{idea_id:int}/follow", name="idea_follow", guards=[signed_in], middleware=[throttle("idea_follow", 30)])
    async def follow(self, request: Request, idea_id: IdeaId, data: FormData,
                     participation: IdeaParticipationService) -> Redirect:
        await participation.follow(idea_id, request.user, on=field(data, "on", "1") != "0")
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/{idea_id:int}/comments", name="idea_comment", guards=[signed_in], middleware=[throttle("idea_comment", 20)])
    async def comment(self, request: Request, idea_id: IdeaId, data: FormData, ideas: IdeaService,
                      participation: IdeaParticipationService) -> Any:
        parent_id = parse_id(field(data, "parent_id"))
        try:
            comment = await participation.comment(idea_id, request.user, field(data, "body"), parent_id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            view = await ideas.view(idea_id, request.user)
            return Template("ideas/idea.html", status_code=exc.status_code, context={
                "view": view, "idea": view.idea, "new": False, "errors": exc.errors, "viewer": request.user,
                "form": {"body": field(data, "body"), "parent_id": parent_id}})
        return redirect_to(request, "idea", idea_id=idea_id, anchor=f"c-{comment.id}")

    @post("/{idea_id:int}/report", name="idea_report", middleware=[throttle("idea_report", 10)])
    async def report(self, request: Request, idea_id: IdeaId, data: FormData,
                     participation: IdeaParticipationService) -> Any:
        await participation.report(idea_id, field(data, "reason"), request.scope.get("user"),
                                   parse_id(field(data, "comment_id")))
        if is_htmx(request):
            return Template("feedback/partials/reported.html", context={})
        return redirect_to(request, "idea", idea_id=idea_id)

    # ----- staff actions (the services check who may do what) ------------------------------

    @post("/{idea_id:int}/status", name="idea_status", guards=[signed_in])
    async def status(self, request: Request, idea_id: IdeaId, data: FormData,
                     lifecycle: IdeaLifecycleService) -> Redirect:
        await lifecycle.change_status(request.user, idea_id, field(data, "status"), field(data, "reason"),
                                      field(data, "answer"))
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/{idea_id:int}/adopt", name="idea_adopt", guards=[signed_in])
    async def adopt(self, request: Request, idea_id: IdeaId, data: FormData,
                    lifecycle: IdeaLifecycleService) -> Redirect:
        await lifecycle.adopt(request.user, idea_id, field(data, "answer"))
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/{idea_id:int}/merge", name="idea_merge", guards=[admin])
    async def merge(self, request: Request, idea_id: IdeaId, data: FormData,
                    lifecycle: IdeaLifecycleService) -> Redirect:
        original_id = parse_id(field(data, "original").strip().lstrip("#"))
        if original_id is None:
            raise ValidationFailed(_("Enter the number of the original idea."), field="original")
        original = await lifecycle.merge(request.user, idea_id, original_id)
        return redirect_to(request, "idea", idea_id=original.id)

    @post("/{idea_id:int}/moderate", name="idea_moderate", guards=[admin])
    async def moderate(self, request: Request, idea_id: IdeaId, data: FormData,
                       moderation: IdeaModerationService) -> Redirect:
        await moderation.moderate(request.user, idea_id, field(data, "action"), field(data, "reason"))
        # The queue sends its own address as "next": back there; anywhere else, back to the idea.
        if field(data, "next") == url(request, "idea_moderation"):
            return redirect_to(request, "idea_moderation")
        return redirect_to(request, "idea", idea_id=idea_id)

    @post("/comments/{comment_id:int}/moderate", name="idea_comment_moderate", guards=[admin])
    async def moderate_comment(self, request: Request, comment_id: IdeaId, data: FormData,
                               moderation: IdeaModerationService) -> Redirect:
        comment = await moderation.moderate_comment(request.user, comment_id, field(data, "action") == "hide",
                                                    field(data, "reason"))
        return redirect_to(request, "idea", idea_id=comment.idea_id, anchor=f"c-{comment.id}")


class IdeaModerationPages(Controller):
    """The moderators' queue: ideas held by the word filter or waiting for pre-moderation, and reports."""

    path = "/admin/ideas"
    guards = [admin]
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="idea_moderation")
    async def queue(self, moderation: IdeaModerationService) -> Template:
        pending, reports = await moderation.queue()
        return Template("ideas/moderation.html", context={"pending": pending, "reports": reports})

    @post("/themes/refresh", name="idea_themes_refresh")
    async def refresh_themes(self, request: Request, db_session: AsyncSession) -> Redirect:
        """Find themes across all public ideas (a background job, like the agencies' feedback themes)."""
        await request_refresh(db_session, None, request.user, scope="ideas")
        return redirect_to(request, "ideas")
