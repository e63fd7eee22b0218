"""The author's own idea before anyone reviewed it: edit it, or withdraw it.

Only while the idea is "submitted" (no moderator or agency has acted on it) and not merged: after that,
other people's support, comments and decisions rest on the text as it was."""

from __future__ import annotations

from ideas.access import IdeaRepository, locked_idea
from ideas.models import Idea, IdeaModeration, IdeaStatus, IdeaStatusEvent
from ideas.services import IdeaDraft
from ideas.texts import abusive_words, clean_wording
from voice.accounts.models import User
from voice.db import DomainService
from voice.errors import Conflict, Forbidden, ValidationFailed
from voice.i18n import _
from voice.text import public_text
from voice.themes.vectors import forget, schedule_encoding


class IdeaAuthorService(DomainService[Idea]):
    repository_type = IdeaRepository

    async def _own_unreviewed(self, user: User, idea_id: int) -> Idea:
        idea = await locked_idea(self.session, idea_id)
        self.require_change(user, idea)
        return idea

    def require_change(self, user: User | None, idea: Idea) -> None:
        """Only its author changes an idea, and only before it is reviewed (refused in the reader's words)."""
        if user is None or idea.author_id != user.id:
            raise Forbidden(_("Only the author can change this idea."))
        if idea.status is not IdeaStatus.SUBMITTED or idea.merged_into_id is not None:
            raise Conflict(_("This idea is already being reviewed: it can no longer be edited or withdrawn."))

    async def edit(self, user: User, idea_id: int, draft: IdeaDraft) -> Idea:
        """New wording for the title, description and problem (checked as when it was shared)."""
        idea = await self._own_unreviewed(user, idea_id)
        errors: dict[str, str] = {}
        title, description, problem = clean_wording(draft.title, draft.description, draft.problem, errors)
        if errors:
            raise ValidationFailed(next(iter(errors.values())), errors=errors)
        idea.title, idea.description, idea.problem = public_text(title), description, problem
        idea.description_public = public_text(description)
        idea.problem_public = public_text(problem) if problem else ""
        idea.search_text = " ".join((idea.title, idea.description_public, idea.problem_public))
        if abusive_words(" ".join((title, description, problem))):  # the word filter reads the new text too
            idea.held_for_review, idea.moderation, idea.is_public = True, IdeaModeration.PENDING, False
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="edited", actor_id=user.id))
        # Its stored vectors say the old words: dropped, and encoded again by the job (a stored vector is
        # never replaced, so similar-idea search would keep finding the idea by what it no longer says).
        await forget(self.session, "ideas", [idea.id])
        await schedule_encoding(self.session)
        await self.session.flush()
        return idea

    async def withdraw(self, user: User, idea_id: int) -> Idea:
        """The author takes the idea back: it leaves the public lists and takes no more support."""
        idea = await self._own_unreviewed(user, idea_id)
        self.session.add(IdeaStatusEvent(idea_id=idea.id, kind="status", from_status=idea.status.value,
                                         to_status=IdeaStatus.WITHDRAWN.value, actor_id=user.id))
        idea.status, idea.is_public = IdeaStatus.WITHDRAWN, False
        await self.session.flush()
        return idea
