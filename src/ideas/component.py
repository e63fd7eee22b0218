"""E-contribution (ideas), as a component of the platform."""

from ideas.api import IdeaApi
from ideas.controllers import IdeaModerationPages, IdeaPages
from voice.component import Component

component = Component(name="ideas", route_handlers=[IdeaPages, IdeaApi, IdeaModerationPages])
