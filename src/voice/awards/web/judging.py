"""A judge's pages: home, conflict declarations, the scoring form (blind where the rubric says so) and the
frozen evidence dossier of a participation entry."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from voice.accounts.models import User
from voice.attachments.services import AttachmentService
from voice.awards.controllers import DEPENDENCIES, Id, _dossier_context, _dossier_name
from voice.awards.documents import ATTACHMENT_OWNER
from voice.awards.evidence import EvidenceService, figure_title
from voice.awards.judging import JudgingService
from voice.awards.models import Edition, EditionStatus, Entry
from voice.awards.snapshots import DossierSnapshotService, FrozenDossier
from voice.awards.visibility import shown_to_judge
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, NotFound
from voice.i18n import _
from voice.ids import parse_id
from voice.web.auth import judge
from voice.web.forms import FormData, field, redirect_to, url


class JudgingPages(Controller):
    """A judge's home, conflict declarations, and the scoring form (blind where the rubric says so)."""

    path = "/awards/judging"
    guards = [judge]
    include_in_schema = False
    dependencies = DEPENDENCIES

    async def _rows(self, judging: JudgingService, user: User, edition: Edition) -> list[tuple[Any, ...]]:
        """The judge's entries in an edition with their sheet and what the judge may see of each."""
        return [(e, s, shown_to_judge(e)) for e, s in await judging.judge_entries(user, edition.id)]

    @get("/", name="judging")
    async def home(self, request: Request, judging: JudgingService) -> Template:
        editions = [(edition, await self._rows(judging, request.user, edition),
                     await judging.conflicts(request.user, edition.id))
                    for edition in await judging.judge_editions(request.user)]
        return Template("awards/judging.html", context={"editions": editions})

    @get("/editions/{edition_id:int}/conflicts", name="award_conflict_form")
    async def conflict_form(self, request: Request, edition_id: Id, judging: JudgingService,
                            agencies: AgencyService) -> Template:
        edition = next((e for e in await judging.judge_editions(request.user) if e.id == edition_id), None)
        if edition is None:
            raise NotFound(_("No such award edition."))
        return Template("awards/conflict.html", context={
            "edition": edition, "rows": await self._rows(judging, request.user, edition),
            "agencies": await agencies.get_many(Agency.is_active.is_(True), order_by=[("name_ar", False)]),
            "conflicts": await judging.conflicts(request.user, edition.id)})

    @post("/editions/{edition_id:int}/conflicts", name="award_conflict")
    async def conflict(self, request: Request, edition_id: Id, data: FormData, judging: JudgingService) -> Redirect:
        await judging.declare_conflict(request.user, edition_id, agency_slug=field(data, "agency"),
                                       entry_id=parse_id(field(data, "entry")), reason=field(data, "reason"))
        return redirect_to(request, "judging")

    async def _score_page(self, request: Request, judging: JudgingService, evidence: EvidenceService, entry: Entry,
                          errors: dict, form: dict | None = None, status_code: int = 200) -> Template:
        sheet = await judging.sheet(request.user, entry.id)
        idea = await evidence.idea_dossier(entry.idea, entry.branch.blind) if entry.idea is not None else None
        return Template("awards/score.html", status_code=status_code, context={
            "entry": entry, "shown": shown_to_judge(entry), "sheet": sheet,
            "current": {s.criterion_id: s for s in (sheet.scores if sheet else [])}, "errors": errors,
            "form": form or {}, "idea": idea, "editable": entry.branch.edition.status is EditionStatus.JUDGING
            and not (sheet and sheet.submitted_at),
            "participation": entry.branch.is_participation and entry.agency_id is not None,
            "files": await AttachmentService(session=judging.session).for_owner(ATTACHMENT_OWNER, entry.id)})

    @get("/entries/{entry_id:int}", name="award_score")
    async def score(self, request: Request, entry_id: Id, judging: JudgingService,
                    evidence: EvidenceService) -> Template:
        entry = await judging.entry_for_judge(request.user, entry_id)
        return await self._score_page(request, judging, evidence, entry, {})

    @post("/entries/{entry_id:int}", name="award_score_save")
    async def save(self, request: Request, entry_id: Id, data: FormData, judging: JudgingService,
                   evidence: EvidenceService) -> Any:
        form = {k: field(data, k) for k in data}
        try:
            await judging.save_scores(request.user, entry_id, form, submit=field(data, "action") == "submit")
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            entry = await judging.entry_for_judge(request.user, entry_id)
            return await self._score_page(request, judging, evidence, entry, exc.errors, form, 422)
        return redirect_to(request, "award_score", entry_id=entry_id, query={"saved": 1})

    async def _entry_frozen(self, request: Request, evidence: EvidenceService, snapshots: DossierSnapshotService,
                            entry_id: int) -> tuple[Edition, Agency, Entry, FrozenDossier]:
        """The frozen dossier of a participation entry the judge may score; judges read no live dossier."""
        edition, agency, entry = await evidence.resolve_entry(request.user, entry_id)
        frozen = await snapshots.frozen(edition, agency, blind=entry.branch.blind)
        if frozen is None:
            raise NotFound(_("The dossier opens to judges when judging starts."))
        frozen.dossier.agency_name = _dossier_name(entry, agency)
        frozen.dossier.agency_slug = "" if entry.branch.blind else agency.slug
        return edition, agency, entry, frozen

    @get("/entries/{entry_id:int}/evidence", name="award_entry_dossier")
    async def entry_dossier(self, request: Request, entry_id: Id, evidence: EvidenceService,
                            snapshots: DossierSnapshotService) -> Template:
        edition, _agency, entry, frozen = await self._entry_frozen(request, evidence, snapshots, entry_id)
        return Template("awards/dossier.html", context={
            "edition": edition, "dossier": frozen.dossier, "taken_at": frozen.taken_at, "live": False,
            **_dossier_context(request, "award_entry_dossier", False, entry_id=entry.id)})

    @get("/entries/{entry_id:int}/evidence/records", name="award_entry_dossier_records")
    async def entry_records(self, request: Request, entry_id: Id, evidence: EvidenceService,
                            snapshots: DossierSnapshotService, figure: str = "received") -> Template:
        edition, _agency, entry, frozen = await self._entry_frozen(request, evidence, snapshots, entry_id)
        return Template("awards/records.html", context={
            "edition": edition, "agency_name": frozen.dossier.agency_name, "figure": figure_title(figure[:64]),
            "rows": snapshots.records(frozen, figure[:64], blind=entry.branch.blind),
            "back": url(request, "award_entry_dossier", entry_id=entry.id)})
