"""E-contribution operations: submit ideas, suggest similar ones, vote, comment, report, browse,
move ideas through their lifecycle, adopt, merge duplicates and moderate.

Moderation mode comes from the environment variable VOICE_IDEAS_PREMODERATION (on|off, default off):
with "on" every new idea waits for a moderator; with "off" ideas publish at once unless the word
filter (abuse_words.txt) holds them for review.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Select, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import (
    Idea,
    IdeaCategory,
    IdeaComment,
    IdeaFollower,
    IdeaModeration,
    IdeaReport,
    IdeaStatus,
    IdeaStatusEvent,
    IdeaVote,
)
from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import audit
from voice.catalogue.models import Agency, Service
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.i18n import _, get_locale
from voice.text import clean_body, public_text, query_terms, search_text
from voice.themes.assign import schedule as schedule_theme_assignment

log = logging.getLogger(__name__)

PREMODERATION_ENV = "VOICE_IDEAS_PREMODERATION"
MIN_TITLE = 8
MAX_TITLE = 200
MAX_COMMENT = 2000
MAX_REASON = 1000
MAX_ANSWER = 5000
PAGE_SIZE = 20
MAX_PAGE = 50  # offset paging: deep pages are for search, not scrolling
SIMILAR_MIN_SCORE = 0.15
SORTS = ("trending", "newest", "top")

TRANSITIONS: dict[IdeaStatus, set[IdeaStatus]] = {
    IdeaStatus.SUBMITTED: {IdeaStatus.UNDER_REVIEW, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.UNDER_REVIEW: {IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.ACCEPTED_FOR_EVALUATION: {IdeaStatus.SHORTLISTED, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.SHORTLISTED: {IdeaStatus.WINNER, IdeaStatus.ADOPTED, IdeaStatus.DECLINED},
    IdeaStatus.WINNER: {IdeaStatus.ADOPTED},
    IdeaStatus.ADOPTED: {IdeaStatus.IMPLEMENTED},
    IdeaStatus.IMPLEMENTED: set(),
    IdeaStatus.DECLINED: {IdeaStatus.UNDER_REVIEW},  # reconsidered
}
# What agency staff may do themselves: take an idea up, and report it done.
AGENCY_STATUSES = {IdeaStatus.ADOPTED, IdeaStatus.IMPLEMENTED}


def premoderation() -> bool:
    """Read at every submission, so the mode can change without code (documented in the README)."""
    return os.environ.get(PREMODERATION_ENV, "off").strip().lower() in {"1", "on", "true", "yes"}


# ----- the word filter ----------------------------------------------------------------------------

_WORDS_FILE = Path(__file__).with_name("abuse_words.txt")
# Clitics that glue onto Arabic words: "والغبي" must meet "غبي".
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل")
_WORD_RE = re.compile(r"\w+")


@cache
def abuse_words() -> frozenset[str]:
    from nlp.normalize import normalize

    lines = _WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(normalize(w) for w in (line.strip() for line in lines) if w and not w.startswith("#"))


def abusive_words(text: str) -> list[str]:
    """Words of the list found in the text (after normalization), in order of appearance."""
    from nlp.normalize import normalize

    words = abuse_words()
    found = []
    for token in _WORD_RE.findall(normalize(text)):
        candidates = [token] + [token[len(p):] for p in _PREFIXES if token.startswith(p) and len(token) - len(p) >= 3]
        if any(c in words for c in candidates):
            found.append(token)
    return found


# ----- similar ideas: one in-memory index per process ---------------------------------------------


class _SimilarCache:
    """A TF-IDF index over public ideas, kept per process and refreshed when the indexable set changes.

    The key is (count, max id, sum of ids, max created_at) of ideas that are public and not merged;
    texts never change after submission. New ideas are added to the fitted index (cheap, no re-fit);
    removed ones are filtered out of results; a full fit happens when much changed, or when an id
    now names another idea (a restored or reset database).
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.index: Any = None
        self.stamps: dict[int, Any] = {}  # id -> created_at of what the index holds
        self.ids: set[int] = set()
        self.fitted_on = 0
        self.lock = asyncio.Lock()

    async def get(self, session: AsyncSession) -> tuple[Any, set[int]]:
        row = (await session.execute(select(func.count(Idea.id), func.max(Idea.id), func.sum(Idea.id),
                                            func.max(Idea.created_at)).where(_indexable()))).one()
        key = (int(row[0]), row[1], int(row[2] or 0), row[3])
        if key == self.key:
            return self.index, self.ids
        async with self.lock:
            if key == self.key:
                return self.index, self.ids
            current = dict((await session.execute(select(Idea.id, Idea.created_at).where(_indexable()))).all())
            new = [i for i in current if i not in self.stamps]
            same = all(self.stamps[i] == stamp for i, stamp in current.items() if i in self.stamps)
            removed = len(self.stamps) - (len(current) - len(new))
            if self.index is not None and same and len(new) + removed <= max(50, self.fitted_on // 5):
                if new:
                    rows = (await session.execute(select(Idea.id, Idea.title, Idea.description_public)
                                                  .where(Idea.id.in_(new)))).all()
                    self.index.add([r[0] for r in rows], [_similar_text(r[1], r[2]) for r in rows])
                    self.stamps.update({i: current[i] for i in new})
            else:
                rows = (await session.execute(select(Idea.id, Idea.title, Idea.description_public)
                                              .where(_indexable()))).all()
                self.index = await asyncio.to_thread(_fit, [r[0] for r in rows],
                                                     [_similar_text(r[1], r[2]) for r in rows])
                self.fitted_on = len(rows)
                self.stamps = dict(current)
            self.ids, self.key = set(current), key
            return self.index, self.ids


def _fit(ids: list[int], texts: list[str]) -> Any:
    from nlp.similarity import SimilarityIndex

    return SimilarityIndex("tfidf").fit(ids, texts) if ids else None


def _similar_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


def _indexable() -> Any:
    return Idea.is_public.is_(True) & Idea.merged_into_id.is_(None)


similar_cache = _SimilarCache()


# ----- inputs and pages ---------------------------------------------------------------------------


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


class IdeaService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ----- intake ---------------------------------------------------------------------------

    async def submit(self, draft: IdeaDraft, user: User | None) -> Idea:
        """Validate and store an idea; the author follows it. Held for review when the filter matches."""
        if user is None:
            raise Forbidden(_("Please sign in to share an idea."))
        if user.role is not Role.CITIZEN or user.kind not in (SubmitterKind.INDIVIDUAL, SubmitterKind.BUSINESS):
            raise Forbidden(_("Ideas are shared by individuals and businesses with their own accounts."))
        errors: dict[str, str] = {}
        title = _clean_title(draft.title, errors)
        description = problem = ""
        try:
            description = clean_body(draft.description, field="description")
        except ValidationFailed as exc:
            errors.update(exc.errors)
        if (draft.problem or "").strip():
            try:
                problem = clean_body(draft.problem, field="problem")
            except ValidationFailed as exc:
                errors.update(exc.errors)
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
        pending = held or premoderation()
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
            search_text=search_text(" ".join((title, description_public, problem_public))),
            language=draft.language if draft.language in ("ar", "en") else "ar",
        )
        self.session.add(idea)
        await self.session.flush()
        # Ideas are clustered across the whole platform (one "ideas" model); a background job puts
        # the new idea into its theme shortly after, without slowing this request.
        await schedule_theme_assignment(self.session, None, scope="ideas")
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="created", to_status=IdeaStatus.SUBMITTED.value,
                                         actor_id=user.id))
        if held:
            self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="moderation", actor_id=None, public=False,
                                             note="held: word filter"))
        self.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))
        await self.session.flush()
        await self.session.refresh(idea)  # loads author, agency, service… for the caller
        return idea

    # ----- similar ideas --------------------------------------------------------------------

    async def similar(self, text: str, k: int = 5, exclude: int | None = None,
                      min_score: float = SIMILAR_MIN_SCORE) -> list[tuple[Idea, float]]:
        """Public ideas that say something close to ``text``, best first."""
        text = (text or "").strip()[:2000]
        if len(re.sub(r"\s+", "", text)) < 4:
            return []
        index, alive = await similar_cache.get(self.session)
        if index is None:
            return []
        hits = [(i, s) for i, s in index.query(text, k=k + 5, min_score=min_score, exclude=exclude) if i in alive]
        hits = hits[:k]
        if not hits:
            return []
        ideas = {i.id: i for i in (await self.session.scalars(select(Idea).where(
            Idea.id.in_([h[0] for h in hits]), _indexable()))).unique().all()}
        return [(ideas[i], s) for i, s in hits if i in ideas]

    # ----- reading --------------------------------------------------------------------------

    async def get(self, idea_id: int, viewer: User | None = None) -> Idea:
        """An idea the viewer may see: public ones for everyone; held or hidden ones for their author
        and moderators only."""
        idea = await self.session.scalar(select(Idea).where(Idea.id == idea_id))
        if idea is None or not (idea.is_public or _may_see_unpublished(idea, viewer)):
            raise NotFound(_("We could not find this idea."))
        return idea

    async def view(self, idea_id: int, viewer: User | None) -> IdeaView:
        idea = await self.get(idea_id, viewer)
        moderator = viewer is not None and viewer.role is Role.ADMIN
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
        allowed = [s for s in sorted(TRANSITIONS[idea.status], key=list(IdeaStatus).index)
                   if viewer is not None and self._may_set(viewer, idea, s)]
        return IdeaView(idea=idea, events=events, comments=comments, duplicates=duplicates,
                        merged_into=merged_into, voted=voted, following=following,
                        can_change_status=bool(allowed), can_moderate=moderator, next_statuses=allowed)

    async def browse(self, filters: IdeaFilters, page_size: int = PAGE_SIZE) -> IdeaPage:
        """Public ideas (duplicates merged away are left out), filtered, searched, sorted and paged."""
        stmt: Select = select(Idea).where(_indexable())
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

    # ----- the public acts ------------------------------------------------------------------

    async def vote(self, idea_id: int, user: User) -> tuple[Idea, bool]:
        """Support an idea; returns (idea, whether the vote is new). Repeats change nothing."""
        idea = await self._open_for_public(idea_id)
        inserted = await self.session.scalar(insert(IdeaVote).values(idea_id=idea.id, user_id=user.id)
                                             .on_conflict_do_nothing().returning(IdeaVote.id))
        if inserted is not None:
            await self.session.execute(update(Idea).where(Idea.id == idea.id).values(votes=Idea.votes + 1))
            await self.session.refresh(idea, ["votes"])
        return idea, inserted is not None

    async def unvote(self, idea_id: int, user: User) -> tuple[Idea, bool]:
        idea = await self._open_for_public(idea_id)
        removed = await self.session.scalar(delete(IdeaVote).where(
            IdeaVote.idea_id == idea.id, IdeaVote.user_id == user.id).returning(IdeaVote.id))
        if removed is not None:
            await self.session.execute(update(Idea).where(Idea.id == idea.id).values(votes=Idea.votes - 1))
            await self.session.refresh(idea, ["votes"])
        return idea, removed is not None

    async def follow(self, idea_id: int, user: User, on: bool = True) -> Idea:
        idea = await self.get(idea_id, user)
        if on:
            await self.session.execute(insert(IdeaFollower).values(idea_id=idea.id, user_id=user.id)
                                       .on_conflict_do_nothing())
        else:
            await self.session.execute(delete(IdeaFollower).where(IdeaFollower.idea_id == idea.id,
                                                                  IdeaFollower.user_id == user.id))
        return idea

    async def comment(self, idea_id: int, user: User, body: str, parent_id: int | None = None) -> IdeaComment:
        idea = await self._open_for_public(idea_id)
        text = clean_body(body, field="body")
        if len(text) > MAX_COMMENT:
            raise ValidationFailed(_("Please keep it under %(n)s characters.", n=MAX_COMMENT), field="body")
        if parent_id is not None:
            parent = await self.session.scalar(select(IdeaComment).where(
                IdeaComment.id == parent_id, IdeaComment.idea_id == idea.id, IdeaComment.hidden.is_(False)))
            if parent is None:
                raise ValidationFailed(_("The comment you reply to is no longer there."), field="parent_id")
        comment = IdeaComment(idea_id=idea.id, parent_id=parent_id, author_id=user.id, body=text,
                              body_public=public_text(text))
        self.session.add(comment)
        await self.session.execute(update(Idea).where(Idea.id == idea.id)
                                   .values(comments_count=Idea.comments_count + 1))
        await self.session.flush()
        return comment

    async def report(self, idea_id: int, reason: str, user: User | None, comment_id: int | None = None) -> IdeaReport:
        idea = await self.get(idea_id, user)
        text = (reason or "").strip()
        if not 3 <= len(text) <= MAX_REASON:
            raise ValidationFailed(_("Tell us briefly why (3 to 1000 characters)."), field="reason")
        text = clean_body(text, field="reason") if len(text) >= 5 else text
        if comment_id is not None and not await self.session.scalar(select(IdeaComment.id).where(
                IdeaComment.id == comment_id, IdeaComment.idea_id == idea.id)):
            raise NotFound(_("We could not find this comment."))
        report = IdeaReport(idea_id=idea.id, comment_id=comment_id, reason=text,
                            reporter_id=user.id if user else None)
        self.session.add(report)
        await self.session.flush()
        return report

    async def _open_for_public(self, idea_id: int) -> Idea:
        idea = await self.session.scalar(select(Idea).where(Idea.id == idea_id, Idea.is_public.is_(True)))
        if idea is None:
            raise NotFound(_("We could not find this idea."))
        if idea.merged_into_id:
            raise Conflict(_("This idea was merged into another one: support and discuss it there."))
        return idea

    # ----- lifecycle ------------------------------------------------------------------------

    def _may_set(self, user: User, idea: Idea, target: IdeaStatus) -> bool:
        if user.role is Role.ADMIN:
            return True
        if not user.role.is_agency or target not in AGENCY_STATUSES or user.agency_id is None:
            return False
        if target is IdeaStatus.ADOPTED:
            return idea.agency_id in (None, user.agency_id)
        return idea.adopted_by_agency_id == user.agency_id

    async def change_status(self, user: User, idea_id: int, to: str, reason: str | None = None,
                            answer: str | None = None) -> Idea:
        """Move an idea along its lifecycle (admins; agency staff adopt and report implementation)."""
        idea = await self._locked(idea_id)
        if not user.is_admin and not idea.is_public:
            # Held or hidden ideas are for moderators; agencies see (and adopt) only public ones.
            raise NotFound(_("We could not find this idea."))
        try:
            target = IdeaStatus(to)
        except ValueError:
            raise ValidationFailed(_("Unknown status."), field="status") from None
        if not self._may_set(user, idea, target):
            raise Forbidden(_("You cannot change the status of this idea."))
        if target not in TRANSITIONS[idea.status]:
            raise Conflict(_("This idea cannot move from “%(a)s” to “%(b)s”.",
                             a=_label(idea.status), b=_label(target)), field="status")
        reason = _optional_text(reason, "reason", MAX_REASON)
        answer = _optional_text(answer, "answer", MAX_ANSWER)
        if target is IdeaStatus.DECLINED and not reason:
            raise ValidationFailed(_("Declining needs a reason the author can read."), field="reason")
        previous = idea.status
        idea.status = target
        idea.decline_reason = reason if target is IdeaStatus.DECLINED else None
        agency_id = user.agency_id if user.role.is_agency else None
        if target is IdeaStatus.ADOPTED:
            if agency_id is None and idea.agency_id is None:
                raise ValidationFailed(_("Choose the agency that adopts the idea."), field="status")
            idea.adopted_by_agency_id = agency_id or idea.agency_id
            agency_id = idea.adopted_by_agency_id
        if answer:
            idea.answer = answer
            idea.answer_agency_id = agency_id or idea.adopted_by_agency_id or idea.agency_id
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="status", from_status=previous.value,
                                         to_status=target.value, actor_id=user.id, agency_id=agency_id,
                                         note=reason, answer=answer))
        await self.session.flush()
        await audit(self.session, "idea.status", actor=user, target_type="idea", target_id=idea.id,
                    agency_id=agency_id, to=target.value)
        await self.session.refresh(idea)
        await self._notify_followers(idea, reason=reason, answer=answer)
        return idea

    async def adopt(self, user: User, idea_id: int, answer: str | None = None) -> Idea:
        """The member's agency takes the idea up: it then shows "adopted by <agency>"."""
        return await self.change_status(user, idea_id, IdeaStatus.ADOPTED.value, answer=answer)

    async def merge(self, user: User, duplicate_id: int, original_id: int) -> Idea:
        """Fold a duplicate into the original: votes (each person once) and followers move; the duplicate
        stays readable with a link to the original."""
        if user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators merge ideas."))
        if duplicate_id == original_id:
            raise ValidationFailed(_("An idea cannot be merged into itself."), field="original")
        duplicate = await self._locked(duplicate_id)
        original = await self._locked(original_id)
        if original.merged_into_id:
            raise Conflict(_("The original was itself merged; merge into the idea it points to."), field="original")
        if duplicate.merged_into_id:
            raise Conflict(_("This idea is already merged."), field="original")
        await self.session.execute(insert(IdeaVote).from_select(
            ["idea_id", "user_id"], select(literal(original.id, BigInteger), IdeaVote.user_id)
            .where(IdeaVote.idea_id == duplicate.id)).on_conflict_do_nothing())
        await self.session.execute(insert(IdeaFollower).from_select(
            ["idea_id", "user_id"], select(literal(original.id, BigInteger), IdeaFollower.user_id)
            .where(IdeaFollower.idea_id == duplicate.id)).on_conflict_do_nothing())
        await self.session.execute(delete(IdeaVote).where(IdeaVote.idea_id == duplicate.id))
        count = await self.session.scalar(select(func.count()).select_from(IdeaVote)
                                          .where(IdeaVote.idea_id == original.id))
        original.votes = int(count or 0)
        duplicate.votes = 0
        duplicate.merged_into_id = original.id
        self.session.add(IdeaStatusEvent(idea_id=duplicate.id, kind="merge", actor_id=user.id,
                                         note=f"#{original.id}"))
        self.session.add(IdeaStatusEvent(idea_id=original.id, kind="merge", actor_id=user.id,
                                         note=f"#{duplicate.id}"))
        await self.session.flush()
        await audit(self.session, "idea.merge", actor=user, target_type="idea", target_id=duplicate.id,
                    into=original.id)
        return original

    # ----- moderation -----------------------------------------------------------------------

    async def moderate(self, user: User, idea_id: int, action: str, reason: str | None = None) -> Idea:
        """Approve a held idea, hide one (with a reason) or show it again. Platform admins only."""
        if user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators moderate ideas."))
        if action not in {"approve", "hide", "show"}:
            raise ValidationFailed(_("Unknown moderation action."), field="action")
        idea = await self._locked(idea_id)
        reason = _optional_text(reason, "reason", MAX_REASON)
        if action == "hide" and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        idea.moderation = IdeaModeration.HIDDEN if action == "hide" else IdeaModeration.VISIBLE
        idea.moderation_reason = reason if action == "hide" else None
        idea.is_public = idea.moderation is IdeaModeration.VISIBLE
        if action != "hide":
            idea.held_for_review = False
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="moderation", actor_id=user.id, public=False,
                                         note=f"{action}: {reason}" if reason else action))
        await self.session.execute(update(IdeaReport).where(IdeaReport.idea_id == idea.id,
                                                            IdeaReport.comment_id.is_(None)).values(resolved=True))
        await self.session.flush()
        await audit(self.session, f"idea.{action}", actor=user, target_type="idea", target_id=idea.id,
                    reason=reason)
        return idea

    async def moderate_comment(self, user: User, comment_id: int, hide: bool, reason: str | None = None) -> IdeaComment:
        if user.role is not Role.ADMIN:
            raise Forbidden(_("Only platform administrators moderate ideas."))
        comment = await self.session.get(IdeaComment, comment_id)
        if comment is None:
            raise NotFound(_("We could not find this comment."))
        reason = _optional_text(reason, "reason", MAX_REASON)
        if hide and not reason:
            raise ValidationFailed(_("Hiding needs a reason."), field="reason")
        comment.hidden, comment.hidden_reason = hide, reason if hide else None
        await self.session.execute(update(IdeaReport).where(IdeaReport.comment_id == comment.id)
                                   .values(resolved=True))
        await self.session.flush()
        await audit(self.session, "idea.comment_hide" if hide else "idea.comment_show", actor=user,
                    target_type="idea_comment", target_id=comment.id, reason=reason)
        return comment

    async def moderation_queue(self, limit: int = 100) -> tuple[list[Idea], list[IdeaReport]]:
        """Ideas waiting for a moderator (held by the filter or pre-moderated) and open reports."""
        pending = list((await self.session.scalars(select(Idea).where(
            Idea.moderation == IdeaModeration.PENDING).order_by(Idea.created_at).limit(limit))).unique().all())
        reports = list((await self.session.scalars(select(IdeaReport).where(IdeaReport.resolved.is_(False))
                                                   .order_by(IdeaReport.created_at).limit(limit))).all())
        return pending, reports

    async def _locked(self, idea_id: int) -> Idea:
        idea = await self.session.scalar(select(Idea).where(Idea.id == idea_id).with_for_update(of=Idea))
        if idea is None:
            raise NotFound(_("We could not find this idea."))
        return idea

    # ----- notifications --------------------------------------------------------------------

    async def _notify_followers(self, idea: Idea, reason: str | None, answer: str | None) -> None:
        from voice.notifications.outbox import link, notify

        emails = (await self.session.scalars(select(User.email).join(
            IdeaFollower, IdeaFollower.user_id == User.id).where(
            IdeaFollower.idea_id == idea.id, User.is_active.is_(True)))).all()
        url = link(f"/ideas/{idea.id}")

        def body() -> str:
            text = _("The idea “%(title)s” is now: %(status)s.", title=idea.title, status=_label(idea.status))
            if idea.status is IdeaStatus.ADOPTED and idea.adopted_by is not None:
                text += "\n" + _("Adopted by %(agency)s.", agency=idea.adopted_by.name(get_locale()))
            if reason:
                text += "\n" + _("Reason: %(reason)s", reason=reason)
            if answer:
                text += "\n\n" + answer
            return text + "\n\n" + _("Follow it here: %(link)s", link=url)

        for email in sorted(set(emails)):
            await notify(self.session, email, subject=lambda: _("Update on an idea you follow"), body=body)


def _may_see_unpublished(idea: Idea, viewer: User | None) -> bool:
    return viewer is not None and (viewer.role is Role.ADMIN or viewer.id == idea.author_id)


def _clean_title(raw: str, errors: dict[str, str]) -> str:
    text = " ".join((raw or "").split())
    try:
        text = clean_body(text, field="title")
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return text
    if len(text) < MIN_TITLE:
        errors["title"] = _("Please give the idea a title of at least %(n)s characters.", n=MIN_TITLE)
    elif len(text) > MAX_TITLE:
        errors["title"] = _("Please keep the title under %(n)s characters.", n=MAX_TITLE)
    return text


def _optional_text(value: str | None, name: str, limit: int) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValidationFailed(_("Please keep it under %(n)s characters.", n=limit), field=name)
    return clean_body(text, field=name)


def _label(value: object) -> str:
    from voice.labels import label

    return label(value)
