"""Award pages: the public list and published results, platform administration, judging, agency entries,
and the participation evidence dossier with its drill-down and exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, User
from voice.awards.evidence import Dossier, EvidenceService, idea_dossier
from voice.awards.models import BranchCode, Edition, EditionStatus, Entry
from voice.awards.services import AwardService, display
from voice.catalogue.models import Agency
from voice.errors import DomainError, NotFound
from voice.i18n import _, get_locale
from voice.ids import parse_id
from voice.web.auth import admin, agency_member, judge, signed_in
from voice.web.forms import FormData, field

Id = Annotated[int, Parameter(ge=1, le=2**62)]


def tie_break_rule() -> str:
    return _("Final score = the mean of the judges' z-scores (each judge's weighted totals standardized across the "
             "entries that judge scored). Ties are broken by the higher mean raw weighted score, then by more "
             "judges, then by the earlier entry (lower entry number).")


def _see_other(url: str) -> Redirect:
    return Redirect(url, status_code=HTTP_303_SEE_OTHER)


async def _branch_param(service: AwardService, edition: Edition, code: str | None):
    branches = await service.branches(edition.id)
    chosen = next((b for b in branches if b.code.value == code), None) or next(
        (b for b in branches if b.code is BranchCode.E_CONTRIBUTION), branches[0] if branches else None)
    if chosen is None:
        raise NotFound(_("No such branch."))
    return branches, chosen


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

    @get("/", name="awards")
    async def index(self, request: Request, db_session: AsyncSession) -> Template:
        return Template("awards/index.html", context={"editions": await AwardService(db_session).editions()})

    @get("/editions/{edition_id:int}/results", name="award_results")
    async def results(self, request: Request, edition_id: Id, db_session: AsyncSession,
                      branch: str | None = None) -> Template:
        service = AwardService(db_session)
        edition = await service.edition(edition_id)
        if not await service.can_see_ranking(request.user, edition):
            raise NotFound(_("The results of this edition are not published yet."))
        branches, chosen = await _branch_param(service, edition, branch)
        ranking = await service.ranking(chosen, request.user)
        return Template("awards/results.html", context={
            "edition": edition, "branches": branches, "ranking": ranking, "rule": tie_break_rule()})

    @get("/results/{entry_id:int}", name="award_entry_result")
    async def entry_result(self, request: Request, entry_id: Id, db_session: AsyncSession) -> Template:
        service = AwardService(db_session)
        entry = await service.entry_for_results(request.user, entry_id)
        published = entry.branch.edition.status is EditionStatus.RESULTS_PUBLISHED
        shown = display(entry, entry.branch.blind and not published)
        sheets = await service.entry_scores(entry)
        return Template("awards/entry_result.html", context={
            "entry": entry, "shown": shown, "sheets": sheets, "criteria": entry.branch.criteria,
            "names": bool(request.user and request.user.is_admin)})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}", name="award_dossier", guards=[signed_in])
    async def dossier(self, request: Request, edition_id: Id, agency_slug: str, db_session: AsyncSession) -> Template:
        ev = EvidenceService(db_session)
        edition, agency = await ev.resolve(request.user, edition_id, agency_slug)
        dossier = await ev.dossier(edition, agency, agency.name(get_locale()))
        base = f"/awards/editions/{edition.id}/evidence/{agency.slug}"
        return Template("awards/dossier.html", context={"edition": edition, "dossier": dossier, "base": base,
                                                        "exports": True})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}/records", name="award_dossier_records",
         guards=[signed_in])
    async def records(self, request: Request, edition_id: Id, agency_slug: str, db_session: AsyncSession,
                      figure: str = "received") -> Template:
        ev = EvidenceService(db_session)
        edition, agency = await ev.resolve(request.user, edition_id, agency_slug)
        rows = await ev.records(edition, agency, figure[:64])
        return Template("awards/records.html", context={
            "edition": edition, "agency_name": agency.name(get_locale()), "figure": figure, "rows": rows,
            "back": f"/awards/editions/{edition.id}/evidence/{agency.slug}"})

    @get("/editions/{edition_id:int}/evidence/{agency_slug:str}/export/{fmt:str}", name="award_dossier_export",
         guards=[signed_in])
    async def export(self, request: Request, edition_id: Id, agency_slug: str, fmt: str,
                     db_session: AsyncSession) -> Response[bytes]:
        ev = EvidenceService(db_session)
        edition, agency = await ev.resolve(request.user, edition_id, agency_slug)
        dossier = await ev.dossier(edition, agency, agency.name(get_locale()))
        return _dossier_response(dossier, fmt, f"voice-evidence-{edition.number}-{agency.slug}")


class AwardAdminPages(Controller):
    """Platform administration of editions, rubrics and judges."""

    path = "/awards/admin"
    guards = [admin]
    include_in_schema = False

    @get("/", name="award_admin")
    async def home(self, db_session: AsyncSession) -> Template:
        return Template("awards/admin.html", context={"editions": await AwardService(db_session).editions(),
                                                      "form": {}, "errors": {}})

    @post("/editions", name="award_edition_create")
    async def create(self, request: Request, data: FormData, db_session: AsyncSession) -> Any:
        service = AwardService(db_session)
        form = {k: field(data, k) for k in ("number", "name_ar", "name_en", "opens_on", "closes_on",
                                             "evidence_from", "evidence_to")}
        try:
            edition = await service.create_edition(request.user, form)
        except DomainError as exc:
            return Template("awards/admin.html", status_code=exc.status_code, context={
                "editions": await service.editions(), "form": form, "errors": exc.errors})
        return _see_other(f"/awards/admin/editions/{edition.id}")

    @get("/editions/{edition_id:int}", name="award_edition_admin")
    async def edition(self, edition_id: Id, db_session: AsyncSession) -> Template:
        service = AwardService(db_session)
        edition = await service.edition(edition_id)
        branches = await service.branches(edition.id)
        judges = {b.id: await service.judges(b.id) for b in branches}
        counts = {b.id: len((await db_session.scalars(select(Entry.id).where(Entry.branch_id == b.id))).all())
                  for b in branches}
        agencies = (await db_session.scalars(select(Agency).order_by(Agency.name_ar))).all()
        return Template("awards/edition_admin.html", context={
            "edition": edition, "branches": branches, "judges": judges, "counts": counts,
            "progress": await service.progress(edition.id), "agencies": agencies,
            "next_status": {EditionStatus.DRAFT: EditionStatus.OPEN_FOR_ENTRIES,
                            EditionStatus.OPEN_FOR_ENTRIES: EditionStatus.JUDGING,
                            EditionStatus.JUDGING: EditionStatus.RESULTS_PUBLISHED}.get(edition.status)})

    @post("/editions/{edition_id:int}/status", name="award_edition_status")
    async def status(self, request: Request, edition_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        await AwardService(db_session).advance(request.user, edition_id, field(data, "status"))
        return _see_other(f"/awards/admin/editions/{edition_id}")

    @post("/editions/{edition_id:int}/sync-ideas", name="award_sync_ideas")
    async def sync(self, request: Request, edition_id: Id, db_session: AsyncSession) -> Redirect:
        service = AwardService(db_session)
        n = await service.sync_idea_entries(await service.edition(edition_id))
        return _see_other(f"/awards/admin/editions/{edition_id}?entered={n}")

    @get("/branches/{branch_id:int}/rubric", name="award_rubric")
    async def rubric(self, branch_id: Id, db_session: AsyncSession) -> Template:
        branch = await AwardService(db_session).branch(branch_id)
        return Template("awards/rubric.html", context={"branch": branch, "errors": {}})

    @post("/branches/{branch_id:int}/rubric", name="award_rubric_save")
    async def rubric_save(self, request: Request, branch_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        service = AwardService(db_session)
        try:
            await service.save_rubric(request.user, branch_id, {k: field(data, k) for k in data})
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return Template("awards/rubric.html", status_code=422, context={
                "branch": await service.branch(branch_id), "errors": exc.errors})
        return _see_other(f"/awards/admin/branches/{branch_id}/rubric")

    @post("/branches/{branch_id:int}/judges", name="award_judge_assign")
    async def assign(self, request: Request, branch_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        service = AwardService(db_session)
        await service.assign_judge(request.user, branch_id, field(data, "email"))
        branch = await service.branch(branch_id)
        return _see_other(f"/awards/admin/editions/{branch.edition_id}")

    @post("/branches/{branch_id:int}/judges/{judge_id:int}/remove", name="award_judge_remove")
    async def unassign(self, request: Request, branch_id: Id, judge_id: Id, db_session: AsyncSession) -> Redirect:
        service = AwardService(db_session)
        branch = await service.branch(branch_id)
        await service.unassign_judge(request.user, branch_id, judge_id)
        return _see_other(f"/awards/admin/editions/{branch.edition_id}")


class JudgingPages(Controller):
    """A judge's home, conflict declarations, and the scoring form (blind where the rubric says so)."""

    path = "/awards/judging"
    guards = [judge]
    include_in_schema = False

    @get("/", name="judging")
    async def home(self, request: Request, db_session: AsyncSession) -> Template:
        service = AwardService(db_session)
        editions = []
        for edition in await service.judge_editions(request.user):
            rows = [(e, s, display(e, e.branch.blind)) for e, s in await service.judge_entries(request.user, edition.id)]
            editions.append((edition, rows, await service.conflicts(request.user, edition.id)))
        return Template("awards/judging.html", context={"editions": editions})

    @get("/editions/{edition_id:int}/conflicts", name="award_conflict_form")
    async def conflict_form(self, request: Request, edition_id: Id, db_session: AsyncSession) -> Template:
        service = AwardService(db_session)
        edition = next((e for e in await service.judge_editions(request.user) if e.id == edition_id), None)
        if edition is None:
            raise NotFound(_("No such award edition."))
        rows = [(e, s, display(e, e.branch.blind)) for e, s in await service.judge_entries(request.user, edition.id)]
        agencies = (await db_session.scalars(select(Agency).where(Agency.is_active.is_(True))
                                             .order_by(Agency.name_ar))).all()
        return Template("awards/conflict.html", context={
            "edition": edition, "rows": rows, "agencies": agencies,
            "conflicts": await service.conflicts(request.user, edition.id)})

    @post("/editions/{edition_id:int}/conflicts", name="award_conflict")
    async def conflict(self, request: Request, edition_id: Id, data: FormData, db_session: AsyncSession) -> Redirect:
        entry = field(data, "entry")
        await AwardService(db_session).declare_conflict(
            request.user, edition_id, agency_slug=field(data, "agency"),
            entry_id=parse_id(entry), reason=field(data, "reason"))
        return _see_other("/awards/judging")

    async def _score_page(self, request: Request, db_session: AsyncSession, entry: Entry, errors: dict,
                          form: dict | None = None, status_code: int = 200) -> Template:
        service = AwardService(db_session)
        sheet = await service.sheet(request.user, entry.id)
        current = {s.criterion_id: s for s in (sheet.scores if sheet else [])}
        blind = entry.branch.blind
        idea = await idea_dossier(db_session, entry.idea, blind) if entry.idea is not None else None
        return Template("awards/score.html", status_code=status_code, context={
            "entry": entry, "shown": display(entry, blind), "sheet": sheet, "current": current, "errors": errors,
            "form": form or {}, "idea": idea, "editable": entry.branch.edition.status is EditionStatus.JUDGING
            and not (sheet and sheet.submitted_at),
            "participation": entry.branch.code is BranchCode.E_PARTICIPATION and entry.agency_id is not None})

    @get("/entries/{entry_id:int}", name="award_score")
    async def score(self, request: Request, entry_id: Id, db_session: AsyncSession) -> Template:
        entry = await AwardService(db_session).entry_for_judge(request.user, entry_id)
        return await self._score_page(request, db_session, entry, {})

    @post("/entries/{entry_id:int}", name="award_score_save")
    async def save(self, request: Request, entry_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        service = AwardService(db_session)
        form = {k: field(data, k) for k in data}
        try:
            await service.save_scores(request.user, entry_id, form, submit=field(data, "action") == "submit")
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            entry = await service.entry_for_judge(request.user, entry_id)
            return await self._score_page(request, db_session, entry, exc.errors, form, 422)
        return _see_other(f"/awards/judging/entries/{entry_id}?saved=1")

    @get("/entries/{entry_id:int}/evidence", name="award_entry_dossier")
    async def entry_dossier(self, request: Request, entry_id: Id, db_session: AsyncSession) -> Template:
        ev = EvidenceService(db_session)
        edition, agency, entry = await ev.resolve_entry(request.user, entry_id)
        name = display(entry, entry.branch.blind).title if entry.branch.blind else agency.name(get_locale())
        dossier = await ev.dossier(edition, agency, name)
        if entry.branch.blind:
            dossier.agency_slug = ""
        return Template("awards/dossier.html", context={
            "edition": edition, "dossier": dossier, "base": f"/awards/judging/entries/{entry.id}/evidence",
            "exports": False})

    @get("/entries/{entry_id:int}/evidence/records", name="award_entry_dossier_records")
    async def entry_records(self, request: Request, entry_id: Id, db_session: AsyncSession,
                            figure: str = "received") -> Template:
        ev = EvidenceService(db_session)
        edition, agency, entry = await ev.resolve_entry(request.user, entry_id)
        name = display(entry, entry.branch.blind).title if entry.branch.blind else agency.name(get_locale())
        return Template("awards/records.html", context={
            "edition": edition, "agency_name": name, "figure": figure,
            "rows": await ev.records(edition, agency, figure[:64]),
            "back": f"/awards/judging/entries/{entry.id}/evidence"})


class AgencyAwardPages(Controller):
    """An agency's entries: administrators enter branches while an edition is open for entries."""

    path = "/awards/agency"
    guards = [agency_member]
    include_in_schema = False

    async def _page(self, user: User, db_session: AsyncSession, form: dict, errors: dict,
                    status_code: int = 200) -> Template:
        service = AwardService(db_session)
        editions = await service.editions()
        agency = await db_session.get(Agency, user.agency_id) if user.agency_id else None
        return Template("awards/agency.html", status_code=status_code, context={
            "editions": editions, "entries": await service.agency_entries(user.agency_id or 0), "agency": agency,
            "open": [e for e in editions if e.status is EditionStatus.OPEN_FOR_ENTRIES],
            "branch_codes": [c for c in BranchCode if c is not BranchCode.E_CONTRIBUTION],
            "can_enter": user.role is Role.AGENCY_ADMIN, "form": form, "errors": errors})

    @get("/", name="award_agency")
    async def home(self, request: Request, db_session: AsyncSession) -> Template:
        return await self._page(request.user, db_session, {}, {})

    @post("/editions/{edition_id:int}/entries", name="award_enter")
    async def enter(self, request: Request, edition_id: Id, data: FormData, db_session: AsyncSession) -> Any:
        form = {k: field(data, k) for k in data}
        try:
            await AwardService(db_session).enter(request.user, edition_id, form)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return await self._page(request.user, db_session, form, exc.errors, 422)
        return _see_other("/awards/agency?saved=1")
