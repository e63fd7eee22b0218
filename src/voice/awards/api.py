"""Award API: editions, an agency's participation evidence, and branch rankings."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter

from voice.awards.controllers import DEPENDENCIES, _judges_copy
from voice.awards.editions import EditionService
from voice.awards.evidence import EvidenceService
from voice.awards.results import RankRow, ResultService, tie_break_rule
from voice.awards.snapshots import DossierSnapshotService
from voice.ids import MAX_ID
from voice.web.forms import url

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class EditionOut(msgspec.Struct):
    id: int
    number: int
    name_ar: str
    name_en: str
    status: str
    opens_on: str
    closes_on: str
    evidence_from: str
    evidence_to: str
    branches: list[dict[str, Any]]


class RankingOut(msgspec.Struct):
    edition_id: int
    branch: str
    published: bool
    blind: bool
    final_score: str
    tie_break: str
    agreement: dict[str, Any]
    min_judges: int  # judges an entry needs before it is ranked; rows below it have rank null, ranked false
    entries: list[RankRow]  # the service's own rows: one definition of a ranking row


class AwardApi(Controller):
    path = "/api/v1/awards"
    tags = ["awards"]
    dependencies = DEPENDENCIES

    @get("/editions", summary="Award editions and their branches")
    async def editions(self, editions: EditionService) -> list[EditionOut]:
        out = []
        for e in await editions.editions():
            branches = [{"code": b.slug, "name_ar": b.name_ar, "name_en": b.name_en, "blind": b.blind}
                        for b in await editions.branches(e.id)]
            out.append(EditionOut(e.id, e.number, e.name_ar, e.name_en, e.status.value, e.opens_on.isoformat(),
                                  e.closes_on.isoformat(), e.evidence_from.isoformat(), e.evidence_to.isoformat(),
                                  branches))
        return out

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}",
         summary="An agency's participation evidence (admins, the edition's judges, the agency itself)",
         description="Judges get the dossier frozen when judging opened (`frozen_at`); the agency and "
                     "administrators the live figures (`frozen_at` null).")
    async def evidence(self, request: Request, edition_id: Id, agency_slug: str, evidence: EvidenceService,
                       snapshots: DossierSnapshotService) -> dict[str, Any]:
        edition, agency = await evidence.resolve(request.user, edition_id, agency_slug)
        frozen = await _judges_copy(request.user, snapshots, edition, agency)
        if frozen is not None:  # a judge: the dossier frozen when judging opened
            frozen.dossier.agency_slug, frozen.dossier.agency_name = agency.slug, agency.name_ar
            dossier = {**frozen.dossier.as_dict(), "frozen_at": frozen.taken_at.isoformat()}
        else:
            dossier = {**(await evidence.dossier(edition, agency)).as_dict(), "frozen_at": None}
        dossier["records_url"] = url(request, "award_dossier_records", edition_id=edition.id,
                                     agency_slug=agency.slug) + "?figure="
        return dossier

    @get("/editions/{edition_id:int}/ranking",
         summary="A branch's ranking with raw, normalized and final scores (admins; everyone once published)")
    async def ranking(self, request: Request, edition_id: Id, editions: EditionService, results: ResultService,
                      branch: str = "e_contribution") -> RankingOut:
        edition = await results.edition_for(request.user, edition_id)
        chosen = await editions.branch_by_code(edition.id, branch)
        r = await results.ranking(chosen, request.user)
        return RankingOut(edition.id, chosen.slug, r.published, chosen.blind and not r.published,
                          "mean z-score of the judges (per-judge normalization, sample std)",
                          tie_break_rule(edition.min_judges), r.agreement, edition.min_judges, list(r.rows))
