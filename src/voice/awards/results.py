"""Results: a branch's ranking computed live from submitted score sheets (administrators, before
publication) or read from the snapshot frozen at publication (everyone, after), with agreement
between judges and each entry's drill-down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import not_, select

from voice.accounts.models import Role, User
from voice.awards import scoring
from voice.awards.editions import EditionService
from voice.awards.models import Branch, Edition, EditionStatus, Entry, ResultSnapshot, ScoreSheet
from voice.awards.visibility import display, judge_may_see
from voice.db import DomainService
from voice.errors import NotFound
from voice.i18n import _, fmt_number, ngettext


def tie_break_rule(min_judges: int) -> str:
    """The ranking rule in words, shown beside every ranking (pages and API)."""
    return " ".join((
        _("Final score = the mean of the judges' z-scores (each judge's weighted totals standardized across the "
          "entries that judge scored). Ties are broken by the higher mean raw weighted score, then by more "
          "judges, then by the earlier entry (lower entry number)."),
        ngettext("An entry is ranked once %(num)s judge has submitted its scores; entries scored by fewer are "
                 "listed as not ranked.",
                 "An entry is ranked once %(num)s judges have submitted its scores; entries scored by fewer are "
                 "listed as not ranked.", min_judges)))


def not_ranked_reason(n_judges: int, min_judges: int) -> str:
    """Why an entry has no rank: how many judges scored it against how many a rank needs."""
    return ngettext("Not ranked: scored by %(num)s judge, %(min)s needed.",
                    "Not ranked: scored by %(num)s judges, %(min)s needed.", n_judges,
                    min=fmt_number(min_judges))


@dataclass
class RankRow:
    rank: int | None  # None: not ranked (fewer judges than the edition's minimum)
    entry_id: int
    title: str
    entrant: str
    mean_raw: float
    mean_normalized: float
    spread: float
    n_judges: int
    final_score: float
    ranked: bool = True
    not_ranked_reason: str = ""


@dataclass
class Ranking:
    branch: Branch
    rows: list[RankRow]  # ranked rows first (by rank), then the entries not ranked
    agreement: dict[str, Any]
    published: bool
    min_judges: int

    @property
    def ranked(self) -> list[RankRow]:
        return [r for r in self.rows if r.ranked]

    @property
    def not_ranked(self) -> list[RankRow]:
        return [r for r in self.rows if not r.ranked]


class ResultService(DomainService[ResultSnapshot]):
    class Repo(SQLAlchemyAsyncRepository[ResultSnapshot]):
        model_type = ResultSnapshot

    repository_type = Repo

    async def edition_for(self, viewer: User | None, edition_id: int) -> Edition:
        """The edition whose rankings this viewer may see (``Edition.ranking_visible_to``); else not found."""
        edition = await EditionService(session=self.session).edition(edition_id)
        if not edition.ranking_visible_to(viewer):
            raise NotFound(_("The results of this edition are not published yet."))
        return edition

    async def branch_totals(self, branch: Branch) -> tuple[list[Entry], dict[int, dict[int, float]]]:
        """Every entry of the branch and, per judge, the weighted totals of the sheets they submitted."""
        entries = list((await self.session.scalars(select(Entry).where(Entry.branch_id == branch.id)
                                                   .order_by(Entry.id))).all())
        specs = _specs(branch)
        sheets = (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.entry_id.in_([e.id for e in entries]), ScoreSheet.submitted_at.is_not(None)))).all()
        totals: dict[int, dict[int, float]] = {}
        for s in sheets:
            totals.setdefault(s.judge_id, {})[s.entry_id] = scoring.weighted_total(_values(s), specs)
        return entries, totals

    async def ranking(self, branch: Branch, viewer: User | None) -> Ranking:
        """The branch's ranking: frozen snapshot once published, computed live before (admins only).

        A judge never sees entries they are conflicted with, even here; blind names stay hidden until
        publication.
        """
        edition = branch.edition
        hidden: set[int] = set()
        if viewer is not None and viewer.role is Role.JUDGE:
            hidden = set((await self.session.scalars(select(Entry.id).where(
                Entry.branch_id == branch.id, not_(judge_may_see(viewer.id))))).all())
        minimum = edition.min_judges
        if edition.results_published:
            snaps = (await self.session.scalars(select(ResultSnapshot).where(ResultSnapshot.branch_id == branch.id)
                                                .order_by(ResultSnapshot.rank.asc().nulls_last(),
                                                          ResultSnapshot.n_judges.desc(), ResultSnapshot.entry_id))
                     ).all()
            rows = [RankRow(s.rank, s.entry_id, s.title, s.entrant, s.mean_raw, s.mean_normalized, s.spread,
                            s.n_judges, s.final_score, s.rank is not None,
                            "" if s.rank is not None else not_ranked_reason(s.n_judges, minimum))
                    for s in snaps if s.entry_id not in hidden]
            return Ranking(branch, rows, dict(branch.published_agreement or {}), True, minimum)
        rows, agreement = await self._compute(branch, blind=branch.blind)
        return Ranking(branch, [r for r in rows if r.entry_id not in hidden], agreement, False, minimum)

    async def _compute(self, branch: Branch, blind: bool) -> tuple[list[RankRow], dict[str, Any]]:
        """Every scored entry: those with at least the edition's minimum of judges ranked, the others after
        them without a rank. Every submitted sheet still counts in its judge's normalization."""
        entries, totals = await self.branch_totals(branch)
        by_id = {e.id: e for e in entries}
        minimum = branch.edition.min_judges
        results = scoring.rank(scoring.entry_results(totals))
        enough = [r for r in results if r.n_judges >= minimum]
        too_few = sorted((r for r in results if r.n_judges < minimum), key=lambda r: (-r.n_judges, r.entry_id))
        rows = []
        for i, r in enumerate(enough + too_few, start=1):
            shown = display(by_id[r.entry_id], blind)
            ranked = r.n_judges >= minimum
            rows.append(RankRow(i if ranked else None, r.entry_id, shown.title, shown.entrant, r.mean_raw,
                                r.mean_normalized, r.spread, r.n_judges, r.final_score, ranked,
                                "" if ranked else not_ranked_reason(r.n_judges, minimum)))
        agree = scoring.agreement(totals)
        return rows, {"kendall_w": agree.kendall_w, "kendall_judges": agree.kendall_judges,
                      "kendall_entries": agree.kendall_entries, "krippendorff_alpha": agree.krippendorff_alpha}

    async def publish(self, edition: Edition) -> None:
        """Freeze every branch's ranking in snapshot rows; from now on scoring is closed for good."""
        for branch in await EditionService(session=self.session).branches(edition.id):
            rows, agreement = await self._compute(branch, blind=False)
            branch.published_agreement = agreement
            for r in rows:
                self.session.add(ResultSnapshot(
                    edition_id=edition.id, branch_id=branch.id, entry_id=r.entry_id, rank=r.rank, title=r.title[:200],
                    entrant=r.entrant[:200], mean_raw=r.mean_raw, mean_normalized=r.mean_normalized, spread=r.spread,
                    n_judges=r.n_judges, final_score=r.final_score))
        edition.status = EditionStatus.RESULTS_PUBLISHED
        edition.published_at = datetime.now(UTC)
        await self.session.flush()

    async def entry_scores(self, entry: Entry) -> list[tuple[ScoreSheet, float]]:
        """The submitted sheets of an entry with each judge's weighted total (results drill-down)."""
        specs = _specs(entry.branch)
        sheets = (await self.session.scalars(select(ScoreSheet).where(
            ScoreSheet.entry_id == entry.id, ScoreSheet.submitted_at.is_not(None)).order_by(ScoreSheet.id))).all()
        return [(s, scoring.weighted_total(_values(s), specs)) for s in sheets]

    async def entry_for_results(self, viewer: User | None, entry_id: int) -> Entry:
        """An entry's results drill-down, for whoever may see its edition's ranking; judges conflicted
        with it get 404 even then."""
        stmt = select(Entry).where(Entry.id == entry_id)
        if viewer is not None and viewer.role is Role.JUDGE:
            stmt = stmt.where(judge_may_see(viewer.id))
        entry = await self.session.scalar(stmt)
        if entry is None or not entry.branch.edition.ranking_visible_to(viewer):
            raise NotFound(_("No such entry."))
        return entry


def _specs(branch: Branch) -> list[scoring.CriterionSpec]:
    return [scoring.CriterionSpec(c.id, c.weight, c.scale_max) for c in branch.criteria]


def _values(sheet: ScoreSheet) -> dict[int, int]:
    return {s.criterion_id: s.value for s in sheet.scores}
