"""E-contribution (ideas), as a component of the platform: its pages and API, and its settings section
(the moderation mode). Its tables and theme source register themselves in ``ideas.models``."""

from ideas.api import IdeaApi
from ideas.controllers import IdeaModerationPages, IdeaPages
from ideas.settings import IdeasSettings
from voice.component import Component

component = Component(name="ideas", route_handlers=[IdeaPages, IdeaApi, IdeaModerationPages],
                      settings=IdeasSettings.from_env)
