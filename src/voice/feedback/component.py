"""Feedback on e-services (voice of the beneficiary), as a component of the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from voice.component import Component
from voice.feedback.api import FeedbackApi
from voice.feedback.controllers.moderation import ModerationPages
from voice.feedback.controllers.public import FeedbackPages
from voice.feedback.intake.queue import IntakeQueue
from voice.feedback.open311.controller import Open311Api


@asynccontextmanager
async def intake_queue(app: Litestar) -> AsyncIterator[None]:
    """The process's intake queue (see voice.feedback.intake.queue), drained before the pool closes so
    that no submission handed to it is dropped on a graceful stop."""
    intake = app.state.intake = IntakeQueue(app.state.db_config.get_engine())
    try:
        yield
    finally:
        await intake.drain()


# The agency's pages on feedback (answers, status, approval) are the workspace component's.
component = Component(name="feedback", lifespans=[intake_queue], route_handlers=[
    FeedbackPages, FeedbackApi, Open311Api, ModerationPages])
