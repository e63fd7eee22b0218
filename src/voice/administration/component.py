"""Administration and the account life-cycle, as a component of the platform."""

from voice.administration.web.admin import AdminPages
from voice.administration.web.api import AdminApi
from voice.administration.web.lifecycle import LifecyclePages
from voice.component import Component

component = Component(name="administration", route_handlers=[AdminPages, AdminApi, LifecyclePages])
