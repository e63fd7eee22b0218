"""Improvements: the agency records what it changed and links it to the themes and items behind it; the
public "you said, we did" page shows what was delivered."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Template

from voice.catalogue.services import AgencyService
from voice.errors import DomainError
from voice.ids import MAX_ID
from voice.themes.edits import ThemeService
from voice.web.forms import FormData, field, redirect_to
from voice.workspace.access import agency_of
from voice.workspace.controllers.base import WorkspacePages, dependencies
from voice.workspace.improvements import ImprovementService
from voice.workspace.models import Improvement, ImprovementKind, ImprovementStatus

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class ImprovementPages(WorkspacePages):
    path = "/agency/improvements"

    @get("/", name="improvements")
    async def list_page(self, request: Request, improvements: ImprovementService) -> Template:
        rows = await improvements.of_agency(agency_of(request.user))
        return Template("workspace/improvements.html", context={"rows": rows})

    @get("/new", name="improvement_new")
    async def new(self, request: Request, themes: ThemeService, theme: int | None = None) -> Template:
        return await _form(request, themes, None, {"themes": [str(theme)] if theme else []})

    @get("/{improvement_id:int}", name="improvement_edit")
    async def edit(self, request: Request, improvement_id: Id, improvements: ImprovementService,
                   themes: ThemeService) -> Template:
        imp = await improvements.for_agency(request.user, improvement_id)
        form = {"title": imp.title, "description": imp.description, "kind": imp.kind.value,
                "status": imp.status.value, "delivered_on": imp.delivered_on.isoformat() if imp.delivered_on else ""}
        return await _form(request, themes, imp, form)

    @post("/", name="improvement_create")
    async def create(self, request: Request, data: FormData, improvements: ImprovementService,
                     themes: ThemeService) -> Any:
        return await _save(request, data, improvements, themes, None)

    @post("/{improvement_id:int}", name="improvement_update")
    async def update(self, request: Request, improvement_id: Id, data: FormData, improvements: ImprovementService,
                     themes: ThemeService) -> Any:
        return await _save(request, data, improvements, themes, improvement_id)


class PublicImprovements(Controller):
    include_in_schema = False
    dependencies = dependencies

    @get("/you-said-we-did", name="you_said_we_did")
    async def page(self, improvements: ImprovementService, agencies: AgencyService,
                   agency: str | None = None) -> Template:
        return Template("workspace/you_said_we_did.html", context={
            "rows": await improvements.delivered_publicly(agency or None), "agencies": await agencies.catalogue(),
            "chosen": agency or ""})


async def _form(request: Request, themes: ThemeService, imp: Improvement | None, form: dict,
                error: DomainError | None = None) -> Template:
    """The improvement form; after a refused save, again with the errors and what was typed."""
    return Template("workspace/improvement_form.html", status_code=error.status_code if error else 200, context={
        "imp": imp, "form": form, "errors": error.errors if error else {},
        "themes": await themes.active(agency_of(request.user), order="label"),
        "kinds": list(ImprovementKind), "statuses": list(ImprovementStatus)})


async def _save(request: Request, data: dict, improvements: ImprovementService, themes: ThemeService,
                improvement_id: int | None) -> Any:
    try:
        await improvements.save(request.user, data, improvement_id)
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        imp = await improvements.for_agency(request.user, improvement_id) if improvement_id else None
        form = {k: (v if k in ("themes", "feedback") else field(data, k)) for k, v in data.items()}
        return await _form(request, themes, imp, form, exc)
    return redirect_to(request, "improvements")
