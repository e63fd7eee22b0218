"""What every workspace page shares: agency members only, and the services its handlers ask for, each
on the request's session (advanced-alchemy providers; a handler receives only those it names)."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar import Controller
from litestar.di import Provide

from voice.attachments.web.controllers import attachments
from voice.catalogue.services import AgencyService
from voice.feedback.controllers import providers as feedback
from voice.themes.edits import ThemeService
from voice.web.auth import agency_member
from voice.workspace.bulk import BulkService
from voice.workspace.dashboard import DashboardService
from voice.workspace.improvements import ImprovementService
from voice.workspace.inbox import InboxService
from voice.workspace.transfers import TransferService

dependencies = {
    "agencies": Provide(create_service_provider(AgencyService)),
    "themes": Provide(create_service_provider(ThemeService)),
    "lifecycle": feedback.lifecycle,
    "moderation": feedback.moderation,
    "inbox": Provide(create_service_provider(InboxService)),
    "dashboard": Provide(create_service_provider(DashboardService)),
    "bulk": Provide(create_service_provider(BulkService)),
    "transfers": Provide(create_service_provider(TransferService)),
    "improvements": Provide(create_service_provider(ImprovementService)),
    "attachments": attachments,
}


class WorkspacePages(Controller):
    """The agency's pages under /agency."""

    path = "/agency"
    guards = [agency_member]
    include_in_schema = False
    dependencies = dependencies
