"""The agency workspace (themes, inbox and items, transfers, improvements, exports, charts), as a
component of the platform."""

from voice.component import Component
from voice.workspace.api import AgencyApi, JobsApi
from voice.workspace.controllers.improvements import ImprovementPages, PublicImprovements
from voice.workspace.controllers.inbox import InboxPages
from voice.workspace.controllers.reports import ReportPages
from voice.workspace.controllers.themes import ThemePages

component = Component(name="workspace", route_handlers=[
    ThemePages, InboxPages, ImprovementPages, ReportPages, PublicImprovements, AgencyApi, JobsApi])
