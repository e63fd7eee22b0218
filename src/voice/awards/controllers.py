"""Award pages: the public list and published results, platform administration, judging, agency entries,
and the participation evidence dossier with its drill-down and exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Template

from voice.accounts.models import Role, User
from voice.awards.editions import EditionService
from voice.awards.entries import EntryService
from voice.awards.evidence import Dossier, EvidenceService, figure_title
from voice.awards.judging import JudgingService
from voice.awards.lifecycle import EditionLifecycleService
from voice.awards.models import Branch, BranchCode, Edition, Entry
from voice.awards.results import ResultService, tie_break_rule
from voice.awards.snapshots import DossierSnapshotService, FrozenDossier
from voice.awards.visibility import shown_in_results, shown_to_judge
from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService
from voice.errors import DomainError, NotFound
from voice.i18n import _, get_locale
from voice.ids import MAX_ID
from voice.web.auth import admin, signed_in
from voice.web.forms import FormData, field, redirect_to, url

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]

# Every award page and the API take their services from here.
DEPENDENCIES = {
    "editions": Provide(create_service_provider(EditionService)),
    "lifecycle": Provide(create_service_provider(EditionLifecycleService)),
    "entries": Provide(create_service_provider(EntryService)),
    "judging": Provide(create_service_provider(JudgingService)),
    "results": Provide(create_service_provider(ResultService)),
    "evidence": Provide(create_service_provider(EvidenceService)),
    "snapshots": Provide(create_service_provider(DossierSnapshotService)),
    "agencies": Provide(create_service_provider(AgencyService)),
}


async def _branch_param(editions: EditionService, edition: Edition, code: str | None) -> tuple[list[Branch], Branch]:
    """The edition's branches and the one asked for (e-contribution, or the first, when none is)."""
    branches = await editions.branches(edition.id)
    chosen = next((b for b in branches if b.slug == code), None) or next(
        (b for b in branches if b.code is BranchCode.E_CONTRIBUTION), branches[0] if branches else None)
    if chosen is None:
        raise NotFound(_("No such branch."))
    return branches, chosen


def _dossier_context(request: Request, route: str, exports: bool, **params: Any) -> dict[str, Any]:
    """Where a dossier page links: its records (``route``_records) and, for agencies' dossiers, exports."""
    return {"records_url": url(request, f"{route}_records", **params),
            "exports": {fmt: url(request, f"{route}_export", fmt=fmt, **params) for fmt in ("csv", "json")}
            if exports else {}}


def _dossier_name(entry: Entry, agency: Agency) -> str:
    # A blind branch's judges read the dossier under the entry's neutral title, never the agency's name.
    return shown_to_judge(entry).title if entry.branch.blind else agency.name(get_locale())


async def _judges_copy(viewer: User, snapshots: DossierSnapshotService, edition: Edition,
                       agency: Agency) -> FrozenDossier | None:
    """Judges read an entered agency's dossier as frozen when judging opened; staff and administrators live."""
    if viewer.role is not Role.JUDGE:
        return None
    return await snapshots.frozen(edition, agency, blind=False)


def _dossier_response(dossier: Dossier, fmt: str, name: str) -> Response[bytes]:
    if fmt == "json":
        body = json.dumps(dossier.as_dict(), ensure_ascii=False, indent=2).encode()
        media = "application/json"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["section", "figure", "label", "value", "unit", "records", "denominator"])
        for stage in dossier.stages:
            for f in stage.figures:
                writer.writerow([stage.key, f.key, f.label, "" if f.value is None else f.value, f.unit, f.records,
                                 "" if f.denominator is None else f.denominator])
        for section, figures in (("channel", dossier.by_channel), ("submitter_kind", dossier.by_submitter_kind),
                                 ("improvement_kind", dossier.improvements_by_kind)):
            for f in figures:
                writer.writerow([section, f.key, f.label, f.value, f.unit, f.records, ""])
        for t in dossier.themes:
            writer.writerow(["theme", t.figure_key, t.label, t.items, "count", t.items,
                             "; ".join(f"{a.title} ({a.status})" for a in t.actions)])
        body, media = ("\ufeff" + buf.getvalue()).encode(), "text/csv; charset=utf-8"  # BOM: Excel reads UTF-8
    else:
        raise NotFound(_("Unknown export."))
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})


class AwardPages(Controller):
    """Public list of editions and published results; the evidence dossier for those allowed to see it."""

    path = "/awards"
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="awards")
    async def index(self, editions: EditionService) -> Template:
        return Template("awards/index.html", context={"editions": await editions.editions()})

    @get("/editions/{edition_id:int}/results", name="award_results")
    async def results(self, request: Request, edition_id: Id, editions: EditionService, results: ResultService,
                      branch: str | None = None) -> Template:
        edition = await results.edition_for(request.user, edition_id)
        branches, chosen = await _branch_param(editions, edition, branch)
        ranking = await results.ranking(chosen, request.user)
        return Template("awards/results.html", context={
            "edition": edition, "branches": branches, "ranking": ranking, "rule": tie_break_rule(edition.min_judges)})

    @get("/results/{entry_id:int}", name="award_entry_result")
    async def entry_result(self, request: Request, entry_id: Id, results: ResultService) -> Template:
        entry = await results.entry_for_results(request.user, entry_id)
        return Template("awards/entry_result.html", context={
            "entry": entry, "shown": shown_in_results(entry), "sheets": await results.entry_scores(entry),
            "criteria": entry.branch.criteria, "names": bool(request.user and request.user.is_admin)})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}", name="award_dossier", guards=[signed_in])
    async def dossier(self, request: Request, edition_id: Id, agency_slug: str, evidence: EvidenceService,
                      snapshots: DossierSnapshotService) -> Template:
        edition, agency = await evidence.resolve(request.user, edition_id, agency_slug)
        frozen = await _judges_copy(request.user, snapshots, edition, agency)
        if frozen is not None:
            dossier, taken_at, live = frozen.dossier, frozen.taken_at, False
            dossier.agency_slug, dossier.agency_name = agency.slug, agency.name(get_locale())
        else:
            dossier, live = await evidence.dossier(edition, agency, agency.name(get_locale())), True
            taken_at = await snapshots.taken_at(edition, agency)
        return Template("awards/dossier.html", context={
            "edition": edition, "dossier": dossier, "taken_at": taken_at, "live": live,
            **_dossier_context(request, "award_dossier", True, edition_id=edition.id, agency_slug=agency.slug)})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}/records", name="award_dossier_records",
         guards=[signed_in])
    async def records(self, request: Request, edition_id: Id, agency_slug: str, evidence: EvidenceService,
                      snapshots: DossierSnapshotService, figure: str = "received") -> Template:
        edition, agency = await evidence.resolve(request.user, edition_id, agency_slug)
        frozen = await _judges_copy(request.user, snapshots, edition, agency)
        rows = (snapshots.records(frozen, figure[:64], blind=False) if frozen is not None
                else await evidence.records(edition, agency, figure[:64]))
        return Template("awards/records.html", context={
            "edition": edition, "agency_name": agency.name(get_locale()), "figure": figure_title(figure), "rows": rows,
            "back": url(request, "award_dossier", edition_id=edition.id, agency_slug=agency.slug)})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}/export/{fmt:str}", name="award_dossier_export",
         guards=[signed_in])
    async def export(self, request: Request, edition_id: Id, agency_slug: str, fmt: str,
                     evidence: EvidenceService, snapshots: DossierSnapshotService) -> Response[bytes]:
        edition, agency = await evidence.resolve(request.user, edition_id, agency_slug)
        frozen = await _judges_copy(request.user, snapshots, edition, agency)
        dossier = frozen.dossier if frozen is not None else await evidence.dossier(edition, agency,
                                                                                   agency.name(get_locale()))
        return _dossier_response(dossier, fmt, f"voice-evidence-{edition.number}-{agency.slug}")


class AwardAdminPages(Controller):
    """Platform administration of editions, rubrics and judges."""

    path = "/awards/admin"
    guards = [admin]
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="award_admin")
    async def home(self, editions: EditionService) -> Template:
        return Template("awards/admin.html", context={"editions": await editions.editions(), "form": {}, "errors": {}})

    @post("/editions", name="award_edition_create")
    async def create(self, request: Request, data: FormData, editions: EditionService) -> Any:
        form = {k: field(data, k) for k in ("number", "name_ar", "name_en", "opens_on", "closes_on",
                                             "evidence_from", "evidence_to")}
        try:
            edition = await editions.create_edition(request.user, form)
        except DomainError as exc:
            return Template("awards/admin.html", status_code=exc.status_code, context={
                "editions": await editions.editions(), "form": form, "errors": exc.errors})
        return redirect_to(request, "award_edition_admin", edition_id=edition.id)

    @get("/editions/{edition_id:int}", name="award_edition_admin")
    async def edition(self, edition_id: Id, editions: EditionService, judging: JudgingService,
                      agencies: AgencyService) -> Template:
        return await self._edition_page(edition_id, editions, judging, agencies)

    async def _edition_page(self, edition_id: int, editions: EditionService, judging: JudgingService,
                            agencies: AgencyService, form: dict | None = None, errors: dict | None = None,
                            status: int = 200) -> Template:
        edition = await editions.edition(edition_id)
        branches = await editions.branches(edition.id)
        return Template("awards/edition_admin.html", context={
            "edition": edition, "branches": branches, "judges": {b.id: await editions.judges(b.id) for b in branches},
            "counts": await editions.entry_counts(edition.id), "progress": await judging.progress(edition.id),
            "agencies": await agencies.get_many(order_by=[("name_ar", False)]),
            "conflicts": await editions.conflicts(edition.id), "form": form or {}, "errors": errors or {},
            "next_status": edition.status.next_step}, status_code=status)

    @post("/editions/{edition_id:int}/branches", name="award_branch_add")
    async def add_branch(self, request: Request, edition_id: Id, data: FormData, editions: EditionService,
                         judging: JudgingService, agencies: AgencyService) -> Any:
        form = {k: field(data, k) for k in ("slug", "name_ar", "name_en", "description_ar", "description_en")}
        try:
            await editions.add_branch(request.user, edition_id, form)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._edition_page(edition_id, editions, judging, agencies, form, exc.errors, 422)
        return redirect_to(request, "award_edition_admin", edition_id=edition_id)

    @post("/branches/{branch_id:int}", name="award_branch_update")
    async def update_branch(self, request: Request, branch_id: Id, data: FormData, editions: EditionService) -> Any:
        if field(data, "remove") == "1":
            edition_id = await editions.remove_branch(request.user, branch_id)
            return redirect_to(request, "award_edition_admin", edition_id=edition_id)
        try:
            branch = await editions.update_branch(request.user, branch_id, {k: field(data, k) for k in data})
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return Template("awards/rubric.html", status_code=422, context={
                "branch": await editions.branch(branch_id), "errors": exc.errors})
        return redirect_to(request, "award_rubric", branch_id=branch.id)

    @post("/editions/{edition_id:int}/conflicts", name="award_conflict_record")
    async def record_conflict(self, request: Request, edition_id: Id, data: FormData, editions: EditionService,
                              judging: JudgingService, agencies: AgencyService) -> Any:
        form = {k: field(data, k) for k in ("judge", "agency", "reason")}
        try:
            await judging.record_conflict(request.user, edition_id, form["judge"], agency_slug=form["agency"],
                                          reason=form["reason"])
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._edition_page(edition_id, editions, judging, agencies, form, exc.errors, 422)
        return redirect_to(request, "award_edition_admin", edition_id=edition_id, anchor="conflicts")

    @post("/editions/{edition_id:int}/min-judges", name="award_min_judges")
    async def min_judges(self, request: Request, edition_id: Id, data: FormData, editions: EditionService,
                         judging: JudgingService, agencies: AgencyService) -> Any:
        form = {"min_judges": field(data, "min_judges")}
        try:
            await editions.set_min_judges(request.user, edition_id, form["min_judges"])
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._edition_page(edition_id, editions, judging, agencies, form, exc.errors, 422)
        return redirect_to(request, "award_edition_admin", edition_id=edition_id)

    @post("/editions/{edition_id:int}/status", name="award_edition_status")
    async def status(self, request: Request, edition_id: Id, data: FormData,
                     lifecycle: EditionLifecycleService) -> Redirect:
        await lifecycle.advance(request.user, edition_id, field(data, "status"))
        return redirect_to(request, "award_edition_admin", edition_id=edition_id)

    @post("/editions/{edition_id:int}/sync-ideas", name="award_sync_ideas")
    async def sync(self, request: Request, edition_id: Id, editions: EditionService, entries: EntryService) -> Redirect:
        n = await entries.sync_idea_entries(await editions.edition(edition_id))
        return redirect_to(request, "award_edition_admin", edition_id=edition_id, query={"entered": n})

    @get("/branches/{branch_id:int}/rubric", name="award_rubric")
    async def rubric(self, branch_id: Id, editions: EditionService) -> Template:
        return Template("awards/rubric.html", context={"branch": await editions.branch(branch_id), "errors": {}})

    @post("/branches/{branch_id:int}/rubric", name="award_rubric_save")
    async def rubric_save(self, request: Request, branch_id: Id, data: FormData, editions: EditionService) -> Any:
        try:
            await editions.save_rubric(request.user, branch_id, {k: field(data, k) for k in data})
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return Template("awards/rubric.html", status_code=422, context={
                "branch": await editions.branch(branch_id), "errors": exc.errors})
        return redirect_to(request, "award_rubric", branch_id=branch_id)

    @post("/branches/{branch_id:int}/judges", name="award_judge_assign")
    async def assign(self, request: Request, branch_id: Id, data: FormData, editions: EditionService) -> Redirect:
        await editions.assign_judge(request.user, branch_id, field(data, "email"))
        branch = await editions.branch(branch_id)
        return redirect_to(request, "award_edition_admin", edition_id=branch.edition_id)

    @post("/branches/{branch_id:int}/judges/{judge_id:int}/remove", name="award_judge_remove")
    async def unassign(self, request: Request, branch_id: Id, judge_id: Id, editions: EditionService) -> Redirect:
        branch = await editions.branch(branch_id)
        await editions.unassign_judge(request.user, branch_id, judge_id)
        return redirect_to(request, "award_edition_admin", edition_id=branch.edition_id)
