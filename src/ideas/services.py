"""Sharing ideas and reading them: submission (with the word filter and the moderation mode),
similar-idea suggestions, the idea page, and browsing with filters, search and sorting.

What follows an idea's submission lives beside it: the public acts on an idea (``ideas.participation``),
its lifecycle (``ideas.lifecycle``) and moderation (``ideas.moderation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select

from ideas.access import IdeaRepository, is_moderator, visible_idea
from ideas.lifecycle import next_statuses
from ideas.models import (
    Idea,
    IdeaCategory,
    IdeaComment,
    IdeaFollower,
    IdeaModeration,
    IdeaStatus,
    IdeaStatusEvent,
    IdeaVote,
)
from ideas.settings import IdeasSettings
from ideas.similar import similar_ideas, similar_to_idea
from ideas.texts import abusive_words, clean_wording
from voice.accounts.models import Role, SubmitterKind, User
from voice.catalogue.models import Agency, Service
from voice.db import DomainService
from voice.errors import Forbidden, ValidationFailed
from voice.i18n import _
from voice.text import public_text, query_terms
from voice.themes.assign import schedule as schedule_theme_assignment
from voice.themes.vectors import schedule_encoding, serving_encoder

PAGE_SIZE = 20
MAX_PAGE = 50  # offset paging: deep pages are for search, not scrolling
SORTS = ("trending", "newest", "top")


@dataclass
class IdeaDraft:
    """What someone sends, as raw strings from a form or JSON; validated by ``submit``."""

    title: str
    description: str
    problem: str = ""
    category: str = IdeaCategory.OTHER
    agency: str | None = None
    service: str | None = None
    language: str = "ar"


@dataclass
class IdeaFilters:
    agency: str | None = None
    category: str | None = None
    status: str | None = None
    theme: int | None = None
    q: str | None = None
    sort: str = "trending"
    page: int = 1


@dataclass
class IdeaPage:
    items: list[Idea]
    page: int
    has_next: bool
    total: int


@dataclass
class IdeaView:
    """Everything the idea page shows."""

    idea: Idea
    events: list[IdeaStatusEvent]
    comments: dict[int | None, list[IdeaComment]]
    duplicates: list[Idea]
    merged_into: Idea | None
    voted: bool
    following: bool
    can_change_status: bool
    can_moderate: bool
    next_statuses: list[IdeaStatus] = field(default_factory=list)
    own: bool = False  # the viewer wrote it: no support button for oneself
    # For moderators: listed ideas that say the same, with their numbers, to merge one into the other.
    possible_duplicates: list[tuple[Idea, float]] = field(default_factory=list)


class IdeaService(DomainService[Idea]):
    repository_type = IdeaRepository

    # ----- intake ---------------------------------------------------------------------------

    async def submit(self, draft: IdeaDraft, user: User | None, settings: IdeasSettings | None = None) -> Idea:
        """Validate and store an idea; the author follows it. It waits for a moderator when the word
        filter matches, or always when ``settings`` (the app's ideas section) turn pre-moderation on."""
        if user is None:
            raise Forbidden(_("Please sign in to share an idea."))
        if user.role is not Role.CITIZEN or user.kind not in (SubmitterKind.INDIVIDUAL, SubmitterKind.BUSINESS):
            raise Forbidden(_("Ideas are shared by individuals and businesses with their own accounts."))
        errors: dict[str, str] = {}
        title, description, problem = clean_wording(draft.title, draft.description, draft.problem, errors)
        try:
            category = IdeaCategory(draft.category or IdeaCategory.OTHER)
        except ValueError:
            errors["category"] = _("Choose a category from the list.")
            category = IdeaCategory.OTHER
        agency = service = None
        if draft.agency:
            agency = await self.session.scalar(select(Agency).where(
                Agency.slug == draft.agency.strip(), Agency.is_active.is_(True)))
            if agency is None:
                errors["agency"] = _("Choose an agency from the list, or leave it empty.")
        if draft.service:
            if agency is None:
                errors.setdefault("service", _("Choose the agency first."))
            else:
                service = await self.session.scalar(select(Service).where(
                    Service.agency_id == agency.id, Service.slug == draft.service.strip(),
                    Service.is_active.is_(True)))
                if service is None:
                    errors["service"] = _("This e-service does not belong to the chosen agency.")
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)

        held = bool(abusive_words(" ".join((title, description, problem))))
        pending = held or (settings or IdeasSettings()).premoderation
        description_public = public_text(description)
        problem_public = public_text(problem) if problem else ""
        title = public_text(title)
        idea = Idea(
            title=title, description=description, description_public=description_public,
            problem=problem, problem_public=problem_public, author_id=user.id, author_kind=user.kind,
            agency_id=agency.id if agency else None, service_id=service.id if service else None,
            category=category, status=IdeaStatus.SUBMITTED,
            moderation=IdeaModeration.PENDING if pending else IdeaModeration.VISIBLE,
            held_for_review=held, is_public=not pending,
            search_text=" ".join((title, description_public, problem_public)),
            language=draft.language if draft.language in ("ar", "en") else "ar",
        )
        self.session.add(idea)
        await self.session.flush()
        # Ideas are clustered across the whole platform (one "ideas" model); a background job puts
        # the new idea into its theme shortly after, without slowing this request.
        await schedule_theme_assignment(self.session, None, scope="ideas")
        await schedule_encoding(self.session)  # its vector, for similar-idea search, within seconds
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="created", to_status=IdeaStatus.SUBMITTED.value,
                                         actor_id=user.id))
        if held:
            self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="moderation", actor_id=None, public=False,
                                             note="held: word filter"))
        self.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))
        await self.session.flush()
        await self.session.refresh(idea)  # loads author, agency, service… for the caller
        return idea

    async def similar(self, text: str, k: int = 5, exclude: int | None = None,
                      min_score: float | None = None) -> list[tuple[Idea, float]]:
        """Public ideas that say something close to ``text``, best first (``ideas.similar``): the text
        is encoded with the configured encoder (the previous one while a change is being encoded) and
        searched among the vectors stored in the database."""
        encoder = await serving_encoder(self.session, "ideas")
        return await similar_ideas(self.session, encoder, text, k=k, exclude=exclude, min_score=min_score)

    async def possible_duplicates(self, idea: Idea, k: int = 5) -> list[tuple[Idea, float]]:
        """Listed ideas close to ``idea`` (never itself), searched with its stored vector."""
        return await similar_to_idea(self.session, await serving_encoder(self.session, "ideas"), idea, k=k)

    # ----- reading --------------------------------------------------------------------------

    async def visible(self, idea_id: int, viewer: User | None = None) -> Idea:
        """An idea the viewer may see (public, or their own, or any for moderators); else not found."""
        return await visible_idea(self.session, idea_id, viewer)

    async def view(self, idea_id: int, viewer: User | None) -> IdeaView:
        idea = await self.visible(idea_id, viewer)
        moderator = is_moderator(viewer)
        history = select(IdeaStatusEvent).where(IdeaStatusEvent.idea_id == idea.id)
        if not moderator:  # moderation steps are for moderators only
            history = history.where(IdeaStatusEvent.public.is_(True))
        events = list((await self.session.scalars(
            history.order_by(IdeaStatusEvent.created_at, IdeaStatusEvent.id))).unique().all())
        comments: dict[int | None, list[IdeaComment]] = {}
        stmt = select(IdeaComment).where(IdeaComment.idea_id == idea.id).order_by(IdeaComment.created_at,
                                                                                  IdeaComment.id)
        if not moderator:
            stmt = stmt.where(IdeaComment.hidden.is_(False))
        for c in (await self.session.scalars(stmt)).unique().all():
            comments.setdefault(c.parent_id, []).append(c)
        duplicates = list((await self.session.scalars(select(Idea).where(Idea.merged_into_id == idea.id)
                                                      .order_by(Idea.id))).unique().all())
        merged_into = await self.session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
        voted = following = False
        if viewer is not None:
            voted = bool(await self.session.scalar(select(IdeaVote.id).where(
                IdeaVote.idea_id == idea.id, IdeaVote.user_id == viewer.id)))
            following = bool(await self.session.scalar(select(IdeaFollower.id).where(
                IdeaFollower.idea_id == idea.id, IdeaFollower.user_id == viewer.id)))
        allowed = next_statuses(viewer, idea)
        possible = await self.possible_duplicates(idea) if moderator and not idea.merged_into_id else []
        return IdeaView(idea=idea, events=events, comments=comments, duplicates=duplicates,
                        merged_into=merged_into, voted=voted, following=following,
                        can_change_status=bool(allowed), can_moderate=moderator, next_statuses=allowed,
                        own=viewer is not None and idea.author_id == viewer.id, possible_duplicates=possible)

    async def browse(self, filters: IdeaFilters, page_size: int = PAGE_SIZE) -> IdeaPage:
        """Public ideas (duplicates merged away are left out), filtered, searched, sorted and paged."""
        stmt: Select = select(Idea).where(Idea.listed())
        if filters.agency:
            stmt = stmt.join(Agency, Agency.id == Idea.agency_id).where(Agency.slug == filters.agency)
        if filters.category in IdeaCategory._value2member_map_:
            stmt = stmt.where(Idea.category == IdeaCategory(filters.category))
        if filters.status in IdeaStatus._value2member_map_:
            stmt = stmt.where(Idea.status == IdeaStatus(filters.status))
        if filters.theme:
            stmt = stmt.where(Idea.theme_id == filters.theme)
        if filters.q and (terms := query_terms(filters.q[:200])):
            stmt = stmt.where(Idea.search_vector.op("@@")(func.plainto_tsquery("simple", terms)))
        total = int(await self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        page = min(max(filters.page, 1), MAX_PAGE)
        sort = filters.sort if filters.sort in SORTS else "trending"
        if sort == "newest":
            order = (Idea.created_at.desc(), Idea.id.desc())
        elif sort == "top":
            order = (Idea.votes.desc(), Idea.created_at.desc(), Idea.id.desc())
        else:
            # Votes decay with age (hours + 2)^1.5, so a fresh idea with support rises above an old one.
            age_hours = func.extract("epoch", func.now() - Idea.created_at) / 3600.0
            score = Idea.votes / func.power(age_hours + 2, 1.5)
            order = (score.desc(), Idea.created_at.desc(), Idea.id.desc())
        rows = list((await self.session.scalars(stmt.order_by(*order).offset((page - 1) * page_size)
                                                .limit(page_size + 1))).unique().all())
        return IdeaPage(items=rows[:page_size], page=page, has_next=len(rows) > page_size and page < MAX_PAGE,
                        total=total)
