"""What anyone signed in does on a public idea: support it (once), follow it, comment and reply, and
report it or a comment to the moderators."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from ideas.access import IdeaRepository, open_idea, visible_idea
from ideas.models import Idea, IdeaComment, IdeaFollower, IdeaReport, IdeaVote
from ideas.texts import MAX_COMMENT, MAX_REASON
from voice.accounts.models import User
from voice.db import DomainService
from voice.errors import Conflict, NotFound, ValidationFailed
from voice.i18n import _, ngettext
from voice.text import clean_body, public_text


class IdeaParticipationService(DomainService[Idea]):
    repository_type = IdeaRepository

    async def vote(self, idea_id: int, user: User) -> tuple[Idea, bool]:
        """Support an idea; returns (idea, whether the vote is new). Repeats change nothing; an author cannot
        support their own idea (support counts other people)."""
        idea = await open_idea(self.session, idea_id)
        if idea.author_id == user.id:
            raise Conflict(_("You cannot support your own idea: support counts other people."))
        inserted = await self.session.scalar(insert(IdeaVote).values(idea_id=idea.id, user_id=user.id)
                                             .on_conflict_do_nothing().returning(IdeaVote.id))
        if inserted is not None:
            await self.session.execute(update(Idea).where(Idea.id == idea.id).values(votes=Idea.votes + 1))
            await self.session.refresh(idea, ["votes"])
        return idea, inserted is not None

    async def unvote(self, idea_id: int, user: User) -> tuple[Idea, bool]:
        idea = await open_idea(self.session, idea_id)
        removed = await self.session.scalar(delete(IdeaVote).where(
            IdeaVote.idea_id == idea.id, IdeaVote.user_id == user.id).returning(IdeaVote.id))
        if removed is not None:
            await self.session.execute(update(Idea).where(Idea.id == idea.id).values(votes=Idea.votes - 1))
            await self.session.refresh(idea, ["votes"])
        return idea, removed is not None

    async def follow(self, idea_id: int, user: User, on: bool = True) -> Idea:
        idea = await visible_idea(self.session, idea_id, user)
        if on:
            await self.session.execute(insert(IdeaFollower).values(idea_id=idea.id, user_id=user.id)
                                       .on_conflict_do_nothing())
        else:
            await self.session.execute(delete(IdeaFollower).where(IdeaFollower.idea_id == idea.id,
                                                                  IdeaFollower.user_id == user.id))
        return idea

    async def comment(self, idea_id: int, user: User, body: str, parent_id: int | None = None) -> IdeaComment:
        idea = await open_idea(self.session, idea_id)
        text = clean_body(body, field="body")
        if len(text) > MAX_COMMENT:
            raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", MAX_COMMENT), field="body")
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
        idea = await visible_idea(self.session, idea_id, user)
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
