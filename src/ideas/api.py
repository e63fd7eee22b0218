"""Ideas JSON API: list, read, similar ideas, submit and vote. Writing needs a Bearer token."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from ideas.controllers import DEPENDENCIES
from ideas.models import Idea, IdeaCategory
from ideas.participation import IdeaParticipationService
from ideas.services import SORTS, IdeaDraft, IdeaFilters, IdeaService
from ideas.settings import IdeasSettings
from ideas.texts import MAX_TITLE, MIN_TITLE
from voice.catalogue.models import SLUG
from voice.i18n import get_locale
from voice.ids import MAX_ID
from voice.text import MAX_BODY, MIN_BODY
from voice.web.auth import signed_in
from voice.web.forms import url
from voice.web.openapi import documented, one_of, refusals, whole
from voice.web.throttle import throttle

IdeaId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
Slug = Annotated[str, documented(pattern=whole(SLUG))]


class IdeaIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, documented(min_length=MIN_TITLE, max_length=MAX_TITLE)]
    description: Annotated[str, documented(min_length=MIN_BODY, max_length=MAX_BODY)]
    # Optional: left empty, or a text like the description.
    problem: Annotated[str, documented(any_of=[{"maxLength": 0}, {"minLength": MIN_BODY, "maxLength": MAX_BODY}])] = ""
    category: Annotated[str, one_of(IdeaCategory)] = IdeaCategory.OTHER.value
    agency: Slug | None = None  # agency slug the idea is for, if any
    service: Slug | None = None  # e-service slug within that agency


class IdeaOut(msgspec.Struct):
    id: int
    title: str
    description: str
    problem: str
    category: str
    status: str
    votes: int
    comments: int
    agency: str | None
    service: str | None
    adopted_by: str | None
    merged_into: int | None
    public: bool
    created_at: str
    url: str


class IdeaList(msgspec.Struct):
    items: list[IdeaOut]
    page: int
    has_next: bool
    total: int


class SimilarIdea(msgspec.Struct):
    id: int
    title: str
    score: float


class VoteOut(msgspec.Struct):
    id: int
    votes: int
    voted: bool


class IdeaApi(Controller):
    path = "/api/v1/ideas"
    tags = ["ideas"]
    dependencies = DEPENDENCIES

    @post("/", summary="Share an idea", guards=[signed_in], middleware=[throttle("api_idea_post", 10)], status_code=201,
          description="Individuals and businesses only. Ideas whose words trip the filter, or all ideas when "
                      "pre-moderation is on, wait for a moderator (`public` is false until then).",
          responses=refusals("`title`, `description`, `problem`: lengths count characters once spaces are "
                             "collapsed, at least 5 besides spaces, plain text (no markup); `agency`, `service`: "
                             "an active agency, and an active e-service of it."))
    async def submit(self, request: Request, data: IdeaIn, ideas: IdeaService,
                     ideas_settings: IdeasSettings) -> IdeaOut:
        idea = await ideas.submit(IdeaDraft(title=data.title, description=data.description, problem=data.problem,
                                            category=data.category, agency=data.agency, service=data.service,
                                            language=get_locale()), request.user, settings=ideas_settings)
        return _out(request, idea)

    @get("/", summary="Browse public ideas",
         description="`sort` is trending (votes decaying with age), newest or top (most supported).")
    async def list_ideas(
        self,
        request: Request,
        ideas: IdeaService,
        agency: str | None = None,
        category: str | None = None,
        status: str | None = None,
        theme: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        sort: Annotated[str, Parameter(pattern="^(" + "|".join(SORTS) + ")$")] = "trending",
        page: Annotated[int, Parameter(ge=1, le=50)] = 1,
    ) -> IdeaList:
        result = await ideas.browse(IdeaFilters(agency=agency, category=category, status=status, theme=theme,
                                                q=q, sort=sort, page=page))
        return IdeaList(items=[_out(request, i) for i in result.items], page=result.page, has_next=result.has_next,
                        total=result.total)

    @get("/similar", summary="Public ideas similar to a text, best first")
    async def similar(
        self,
        ideas: IdeaService,
        q: Annotated[str, Parameter(min_length=1, max_length=2000)],
        k: Annotated[int, Parameter(ge=1, le=20)] = 5,
    ) -> list[SimilarIdea]:
        return [SimilarIdea(id=i.id, title=i.title, score=round(s, 4)) for i, s in await ideas.similar(q, k=k)]

    @get("/{idea_id:int}", summary="One idea")
    async def show(self, request: Request, idea_id: IdeaId, ideas: IdeaService) -> IdeaOut:
        return _out(request, await ideas.visible(idea_id, request.scope.get("user")))

    @post("/{idea_id:int}/vote", summary="Support an idea (idempotent)", status_code=200,
          guards=[signed_in], middleware=[throttle("api_idea_vote", 60)])
    async def vote(self, request: Request, idea_id: IdeaId, participation: IdeaParticipationService) -> VoteOut:
        idea, _new = await participation.vote(idea_id, request.user)
        return VoteOut(id=idea.id, votes=idea.votes, voted=True)

    @delete("/{idea_id:int}/vote", summary="Withdraw support (idempotent)", status_code=200,
            guards=[signed_in], middleware=[throttle("api_idea_vote", 60)])
    async def unvote(self, request: Request, idea_id: IdeaId, participation: IdeaParticipationService) -> VoteOut:
        idea, _removed = await participation.unvote(idea_id, request.user)
        return VoteOut(id=idea.id, votes=idea.votes, voted=False)


def _out(request: Request, idea: Idea) -> IdeaOut:
    def iso(value: Any) -> str:
        return value.isoformat() if value else ""

    return IdeaOut(
        id=idea.id, title=idea.title, description=idea.description_public, problem=idea.problem_public,
        category=idea.category.value, status=idea.status.value, votes=idea.votes, comments=idea.comments_count,
        agency=idea.agency.slug if idea.agency else None, service=idea.service.slug if idea.service else None,
        adopted_by=idea.adopted_by.slug if idea.adopted_by else None, merged_into=idea.merged_into_id,
        public=idea.is_public, created_at=iso(idea.created_at),
        url=request.app.state.settings.base_url.rstrip("/") + url(request, "idea", idea_id=idea.id),
    )
