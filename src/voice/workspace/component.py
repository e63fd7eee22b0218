"""The agency workspace (themes, inbox, transfers, improvements), as a component of the platform."""

from voice.component import Component
from voice.workspace.api import AgencyApi, JobsApi
from voice.workspace.controllers import PublicImprovements, WorkspacePages

component = Component(name="workspace", route_handlers=[WorkspacePages, PublicImprovements, AgencyApi, JobsApi])
