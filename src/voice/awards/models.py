"""Award tables: editions and their seven branches, rubrics, entries, judges, conflicts, scores and frozen results."""

from __future__ import annotations

import enum
from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ideas.models import Idea
from voice.accounts.models import User, str_enum
from voice.catalogue.models import Agency
from voice.db import Base, PublicText

# Judges who must have submitted an entry's scores before it is ranked, unless an edition says otherwise.
DEFAULT_MIN_JUDGES = 3
MAX_MIN_JUDGES = 50


class EditionStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN_FOR_ENTRIES = "open_for_entries"
    JUDGING = "judging"
    RESULTS_PUBLISHED = "results_published"

    @property
    def rubrics_editable(self) -> bool:
        return self in (EditionStatus.DRAFT, EditionStatus.OPEN_FOR_ENTRIES)

    @property
    def is_published(self) -> bool:
        return self is EditionStatus.RESULTS_PUBLISHED

    @property
    def next_step(self) -> EditionStatus | None:
        """The one step an edition takes from here (draft, entries, judging, results); None at the end."""
        return _NEXT_STEP.get(self)


_NEXT_STEP = {
    EditionStatus.DRAFT: EditionStatus.OPEN_FOR_ENTRIES,
    EditionStatus.OPEN_FOR_ENTRIES: EditionStatus.JUDGING,
    EditionStatus.JUDGING: EditionStatus.RESULTS_PUBLISHED,
}


class BranchCode(enum.StrEnum):
    G2C = "g2c"
    G2B = "g2b"
    G2G = "g2g"
    E_LEADERSHIP = "e_leadership"
    E_PARTICIPATION = "e_participation"
    SMART_DEVICES = "smart_devices"
    E_CONTRIBUTION = "e_contribution"
    # A branch an administrator added to an edition (agencies' entries, the generic rubric).
    CUSTOM = "custom"


class Edition(Base):
    __tablename__ = "award_edition"
    __table_args__ = (CheckConstraint(f"min_judges BETWEEN 1 AND {MAX_MIN_JUDGES}", name="min_judges_range"),)

    number: Mapped[int] = mapped_column(Integer, unique=True)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    # The period whose feedback, answers and improvements count as participation evidence.
    evidence_from: Mapped[date] = mapped_column(Date)
    evidence_to: Mapped[date] = mapped_column(Date)
    status: Mapped[EditionStatus] = mapped_column(str_enum(EditionStatus, "edition_status"),
                                                  default=EditionStatus.DRAFT, index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # An entry is ranked only once this many judges submitted its scores; below it is listed as
    # "not ranked" with the reason (set until judging opens).
    min_judges: Mapped[int] = mapped_column(SmallInteger, default=DEFAULT_MIN_JUDGES,
                                            server_default=str(DEFAULT_MIN_JUDGES))

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en

    @property
    def results_published(self) -> bool:
        return self.status.is_published

    def ranking_visible_to(self, viewer: User | None) -> bool:
        """Rankings are public once published; before that only platform administrators follow them live
        (pages, the API and templates all ask this)."""
        return self.results_published or (viewer is not None and viewer.is_admin)


class Branch(Base):
    """One of the award's seven branches in an edition; it carries the rubric (criteria + blind flag)."""

    __tablename__ = "award_branch"
    __table_args__ = (UniqueConstraint("edition_id", "slug", name="uq_award_branch_edition_slug"),
                      Index("uq_award_branch_edition_code", "edition_id", "code", unique=True,
                            postgresql_where=text("code <> 'custom'")))

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    code: Mapped[BranchCode] = mapped_column(str_enum(BranchCode, "branch_code"))
    # The branch's name in URLs and the API: its code for the award's seven, chosen for added ones.
    slug: Mapped[str] = mapped_column(String(64))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ar: Mapped[str] = mapped_column(Text, default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Blind judging: judges never see author or agency names of this branch's entries.
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    # Agreement between judges, frozen with the results (Kendall's W, Krippendorff's alpha).
    published_agreement: Mapped[dict | None] = mapped_column(JSONB, default=None)

    edition: Mapped[Edition] = relationship(lazy="joined", innerjoin=True)
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="branch", order_by="Criterion.position, Criterion.id", lazy="selectin",
        cascade="all, delete-orphan")

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en

    @property
    def is_participation(self) -> bool:
        """E-community participation: its agencies' entries carry their evidence dossier."""
        return self.code is BranchCode.E_PARTICIPATION


class Criterion(Base):
    __tablename__ = "award_criterion"
    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("scale_max BETWEEN 1 AND 100", name="scale_range"),
    )

    branch_id: Mapped[int] = mapped_column(ForeignKey("award_branch.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # English
    description_ar: Mapped[str] = mapped_column(Text, default="", server_default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    scale_max: Mapped[int] = mapped_column(SmallInteger, default=10)

    branch: Mapped[Branch] = relationship(back_populates="criteria", lazy="noload")

    def name(self, lang: str) -> str:
        return self.name_ar if lang == "ar" else self.name_en

    @property
    def description_en(self) -> str:
        """The English description (its column kept the name ``description`` from before the Arabic one), so
        templates show the reader's language through ``localized(criterion, "description")``."""
        return self.description


class Entry(Base):
    """An agency's entry in a branch, or an idea entered in e-contribution."""

    __tablename__ = "award_entry"
    __table_args__ = (
        CheckConstraint("(agency_id IS NULL) <> (idea_id IS NULL)", name="agency_or_idea"),
        Index("uq_award_entry_agency", "branch_id", "agency_id", unique=True,
              postgresql_where=text("agency_id IS NOT NULL")),
        Index("uq_award_entry_idea", "branch_id", "idea_id", unique=True,
              postgresql_where=text("idea_id IS NOT NULL")),
    )

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("award_branch.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"), index=True)
    # The idea's author: a judge never scores their own idea.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(PublicText(200))
    narrative: Mapped[str] = mapped_column(PublicText, default="")
    # Supporting documents as links: [{"title": ..., "url": "https://..."}].
    documents: Mapped[list] = mapped_column(JSONB, default=list)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    branch: Mapped[Branch] = relationship(lazy="joined", innerjoin=True)
    agency: Mapped[Agency | None] = relationship(lazy="joined")
    idea: Mapped[Idea | None] = relationship(lazy="joined")


class JudgeAssignment(Base):
    __tablename__ = "award_judge"
    __table_args__ = (UniqueConstraint("branch_id", "judge_id", name="uq_award_judge_branch_judge"),)

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("award_branch.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)

    judge: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Conflict(Base):
    """A judge's declared conflict of interest: with a whole agency, or with one entry."""

    __tablename__ = "award_conflict"
    __table_args__ = (CheckConstraint("(agency_id IS NULL) <> (entry_id IS NULL)", name="agency_or_entry"),)

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("award_entry.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # The administrator who recorded it; None when the judge declared it.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                       default=None)

    agency: Mapped[Agency | None] = relationship(lazy="joined")


class ScoreSheet(Base):
    """One judge's scores for one entry: a draft until submitted, then read-only."""

    __tablename__ = "award_score_sheet"
    __table_args__ = (UniqueConstraint("entry_id", "judge_id", name="uq_award_sheet_entry_judge"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("award_entry.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    scores: Mapped[list[Score]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "award_score"
    __table_args__ = (UniqueConstraint("sheet_id", "criterion_id", name="uq_award_score_sheet_criterion"),
                      CheckConstraint("value >= 0", name="value_non_negative"))

    sheet_id: Mapped[int] = mapped_column(ForeignKey("award_score_sheet.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("award_criterion.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")


class ScoreHistory(Base):
    """Every change to a score, with its old and new value (the audit trail of judging)."""

    __tablename__ = "award_score_history"

    sheet_id: Mapped[int] = mapped_column(ForeignKey("award_score_sheet.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("award_criterion.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))  # save | submit
    old_value: Mapped[int | None] = mapped_column(SmallInteger)
    new_value: Mapped[int | None] = mapped_column(SmallInteger)
    old_comment: Mapped[str | None] = mapped_column(Text)
    new_comment: Mapped[str | None] = mapped_column(Text)


class ResultSnapshot(Base):
    """The ranking of a branch as published: frozen, never recomputed."""

    __tablename__ = "award_result"
    __table_args__ = (UniqueConstraint("branch_id", "entry_id", name="uq_award_result_branch_entry"),)

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("award_branch.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("award_entry.id", ondelete="CASCADE"))
    # None: not ranked, too few judges submitted scores for it (``Edition.min_judges``).
    rank: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(PublicText(200))
    entrant: Mapped[str] = mapped_column(String(200), default="")
    mean_raw: Mapped[float] = mapped_column(Float)
    mean_normalized: Mapped[float] = mapped_column(Float)
    spread: Mapped[float] = mapped_column(Float)
    n_judges: Mapped[int] = mapped_column(Integer)
    final_score: Mapped[float] = mapped_column(Float)


class DossierSnapshot(Base):
    """An agency's evidence dossier as it stood when judging opened: what the edition's judges score.

    ``dossier`` is the dossier's figures (``Dossier.as_dict``) with, per figure, the dossier-local numbers
    of its records; ``records`` are those records (public text only) under their local references, so
    nothing in a snapshot names a public record (no ``FB-35`` that Open311 would resolve). Staff keep
    the live view.
    """

    __tablename__ = "award_dossier_snapshot"
    __table_args__ = (UniqueConstraint("edition_id", "agency_id", name="uq_award_dossier_snapshot_edition_agency"),)

    edition_id: Mapped[int] = mapped_column(ForeignKey("award_edition.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    dossier: Mapped[dict] = mapped_column(JSONB)
    records: Mapped[list] = mapped_column(JSONB, default=list)
