"""My contributions, my data (JSON download) and erasing my account."""

from __future__ import annotations

import json
from typing import Any

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Template

from voice.errors import DomainError
from voice.privacy.services import PersonalDataService
from voice.web.auth import signed_in
from voice.web.forms import FormData, field, redirect_to


class PrivacyPages(Controller):
    path = "/account"
    guards = [signed_in]
    include_in_schema = False
    dependencies = {"personal_data": Provide(create_service_provider(PersonalDataService))}

    @get("/contributions", name="my_contributions")
    async def contributions(self, request: Request, personal_data: PersonalDataService) -> Template:
        return Template("accounts/contributions.html", context={
            "mine": await personal_data.contributions(request.user)})

    @get("/data", name="my_data")
    async def data_page(self) -> Template:
        return Template("accounts/data.html", context={"errors": {}})

    @get("/data.json", name="my_data_download")
    async def download(self, request: Request, personal_data: PersonalDataService) -> Response[bytes]:
        body = json.dumps(await personal_data.export(request.user), ensure_ascii=False, indent=2).encode()
        return Response(body, media_type="application/json", headers={
            "Content-Disposition": 'attachment; filename="voice-my-data.json"', "Cache-Control": "no-store"})

    @post("/erase", name="my_account_erase", status_code=303)
    async def erase(self, request: Request, data: FormData, personal_data: PersonalDataService) -> Any:
        try:
            await personal_data.erase(request.user, field(data, "confirm"))
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            return Template("accounts/data.html", status_code=422, context={"errors": exc.errors})
        request.clear_session()
        return redirect_to(request, "home")
