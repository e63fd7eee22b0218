"""E-contribution tables: ideas, their votes, threaded comments, reports, status history and followers."""

from __future__ import annotations

import enum

from sqlalchemy import (
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from voice.accounts.models import SubmitterKind, User, str_enum
from voice.catalogue.models import Agency, Service
from voice.db import Base, PublicSearchText, PublicText
from voice.themes.models import Theme
from voice.themes.sources import Source, register


class IdeaStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED_FOR_EVALUATION = "accepted_for_evaluation"
    SHORTLISTED = "shortlisted"
    WINNER = "winner"
    ADOPTED = "adopted"
    IMPLEMENTED = "implemented"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by its author, before review (migration 0015)


class IdeaCategory(enum.StrEnum):
    DIGITAL_SERVICES = "digital_services"
    ACCESSIBILITY = "accessibility"
    TRANSPARENCY = "transparency"
    EFFICIENCY = "efficiency"
    INTEGRATION = "integration"
    OTHER = "other"


class IdeaModeration(enum.StrEnum):
    """Whether an idea shows publicly."""

    VISIBLE = "visible"
    PENDING = "pending"  # waiting for a moderator (pre-moderation, or held by the word filter)
    HIDDEN = "hidden"  # hidden by a moderator, with a reason


class Idea(Base):
    __tablename__ = "idea"
    __table_args__ = (
        Index("ix_idea_public_created", "created_at", "id", postgresql_where=text("is_public")),
        Index("ix_idea_public_votes", "votes", "id", postgresql_where=text("is_public")),
        Index("ix_idea_search", "search_vector", postgresql_using="gin"),
    )

    # Titles are short and shown everywhere: stored already redacted.
    title: Mapped[str] = mapped_column(PublicText(200))
    # What the person wrote, never altered; the *_public forms have personal data replaced.
    description: Mapped[str] = mapped_column(Text)
    description_public: Mapped[str] = mapped_column(PublicText)
    problem: Mapped[str] = mapped_column(Text, default="")
    problem_public: Mapped[str] = mapped_column(PublicText, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    # Individuals and businesses both contribute; the award reports them apart.
    author_kind: Mapped[SubmitterKind] = mapped_column(str_enum(SubmitterKind, "submitter_kind"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"), index=True)
    category: Mapped[IdeaCategory] = mapped_column(str_enum(IdeaCategory, "idea_category"), index=True)
    status: Mapped[IdeaStatus] = mapped_column(str_enum(IdeaStatus, "idea_status"), default=IdeaStatus.SUBMITTED,
                                               index=True)
    decline_reason: Mapped[str | None] = mapped_column(PublicText)
    # The latest official answer given with a status change, and the agency that gave it.
    answer: Mapped[str | None] = mapped_column(PublicText)
    answer_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    adopted_by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"),
                                                             index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="SET NULL"), index=True)
    moderation: Mapped[IdeaModeration] = mapped_column(str_enum(IdeaModeration, "idea_moderation"),
                                                       default=IdeaModeration.VISIBLE, index=True)
    moderation_reason: Mapped[str | None] = mapped_column(PublicText)
    # The word filter matched: the idea waits for a moderator instead of being refused.
    held_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Denormalized "visible to everyone" (moderation is visible), so public indexes hold only that.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # The theme of ideas (scope "ideas") the text was assigned to on arrival, when its agency has a model.
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"), index=True)
    theme_score: Mapped[float | None] = mapped_column()
    votes: Mapped[int] = mapped_column(Integer, default=0)
    comments_count: Mapped[int] = mapped_column(Integer, default=0)
    search_text: Mapped[str] = mapped_column(PublicSearchText, default="")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple'::regconfig, search_text)", persisted=True)
    )
    language: Mapped[str] = mapped_column(String(2), default="ar")
    # Blind judging: while the idea is an entry of a blind award branch that is being judged, public
    # surfaces do not say who shared it (set and cleared by the awards, ``voice.awards.attribution``).
    attribution_withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    agency: Mapped[Agency | None] = relationship(lazy="joined", foreign_keys=[agency_id])
    service: Mapped[Service | None] = relationship(lazy="joined")
    adopted_by: Mapped[Agency | None] = relationship(lazy="joined", foreign_keys=[adopted_by_agency_id])
    answer_agency: Mapped[Agency | None] = relationship(lazy="joined", foreign_keys=[answer_agency_id])
    theme: Mapped[Theme | None] = relationship(lazy="joined")

    @classmethod
    def listed(cls) -> ColumnElement[bool]:
        """Public and not merged into another idea: what browsing lists and similar-idea search finds."""
        return cls.is_public.is_(True) & cls.merged_into_id.is_(None)

    @property
    def byline(self) -> str | None:
        """Who shared the idea, as public pages say it: the display name, or None while attribution is
        withheld for blind judging. Public templates use this, never ``author``."""
        return None if self.attribution_withheld else self.author.public_name

    def comment_byline(self, comment: IdeaComment) -> str | None:
        """A comment's author as public pages say it: None for the idea's own author while attribution
        is withheld (their name under a comment would name the idea's author)."""
        if self.attribution_withheld and comment.author_id == self.author_id:
            return None
        return comment.author.public_name

    @property
    def hidden_by_moderator(self) -> bool:
        return self.moderation is IdeaModeration.HIDDEN

    @property
    def declined(self) -> bool:
        return self.status is IdeaStatus.DECLINED


class IdeaVote(Base):
    """One supporting vote per person and idea."""

    __tablename__ = "idea_vote"
    __table_args__ = (UniqueConstraint("idea_id", "user_id", name="uq_idea_vote_user"),)

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)


class IdeaComment(Base):
    """A comment or, with parent_id, a reply to one."""

    __tablename__ = "idea_comment"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("idea_comment.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_public: Mapped[str] = mapped_column(PublicText)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(PublicText)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class IdeaReport(Base):
    """Someone flagged an idea (or one of its comments) for moderation."""

    __tablename__ = "idea_report"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("idea_comment.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class IdeaStatusEvent(Base):
    """The idea's history: creation, status changes (with reason and answer), adoption, merges, moderation."""

    __tablename__ = "idea_status_event"

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # created, status, merge, moderation
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(PublicText)
    answer: Mapped[str | None] = mapped_column(PublicText)
    # Moderation steps are for moderators only; the rest shows on the idea page.
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    actor: Mapped[User | None] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(lazy="joined")


class IdeaFollower(Base):
    """Someone who is e-mailed when the idea changes (the author follows from the start)."""

    __tablename__ = "idea_follower"
    __table_args__ = (UniqueConstraint("idea_id", "user_id", name="uq_idea_follower_user"),)

    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)


# Theme runs cluster public ideas (scope "ideas", all agencies together).
register("ideas", Source(
    model=Idea,
    text=lambda: func.concat_ws(" ", Idea.title, Idea.description_public),
    rows=lambda agency_id: [Idea.is_public.is_(True)] + ([Idea.agency_id == agency_id] if agency_id else []),
    per_agency=False,
))
