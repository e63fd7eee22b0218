"""The platform's components, in the documented slice order (docs/architecture.md): the one list the
app factory, the worker and the CLI read. A new slice adds its component here and nowhere else."""

from __future__ import annotations

from typing import Any

from ideas.component import component as ideas
from voice.accounts.component import component as accounts
from voice.administration.component import component as administration
from voice.attachments.component import component as attachments
from voice.awards.component import component as awards
from voice.catalogue.component import component as catalogue
from voice.component import Component
from voice.consultations.component import component as consultations
from voice.feedback.component import component as feedback
from voice.jobs import retry_stalled_jobs
from voice.notifications.component import component as notifications
from voice.privacy.component import component as privacy
from voice.themes.component import component as themes
from voice.workspace.component import component as workspace

# The job queue's own housekeeping belongs to no slice.
core = Component(name="core", tasks=[retry_stalled_jobs])

COMPONENTS: tuple[Component, ...] = (core, catalogue, accounts, attachments, notifications, administration, themes,
                                     feedback, workspace, ideas, consultations, awards, privacy)


def load() -> tuple[Component, ...]:
    """Every component (importing this module declared their tables, tasks and theme sources)."""
    return COMPONENTS


def route_handlers() -> list[Any]:
    return [handler for component in COMPONENTS for handler in component.route_handlers]


def sections() -> dict[str, Any]:
    """Each component's settings section, read from the environment now."""
    return {c.name: c.settings() for c in COMPONENTS if c.settings is not None}


def lifespans() -> list[Any]:
    return [lifespan for component in COMPONENTS for lifespan in component.lifespans]
