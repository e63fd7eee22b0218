"""How the feedback slice's handlers get their services: advanced-alchemy providers on the request's
session, except the intake, which must not open a session it may not need."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import Scope

from voice.feedback.board import BoardService
from voice.feedback.intake.service import IntakeService
from voice.feedback.lifecycle import LifecycleService
from voice.feedback.moderation import ModerationService
from voice.feedback.tracking import TrackingService


def provide_intake(state: State, scope: Scope) -> IntakeService:
    """The request's IntakeService, storing through the process's intake queue; the request's own
    session is opened only if the intake needs it (the JSON API's answer does not)."""
    db_config = state.db_config
    return IntakeService(lambda: db_config.provide_session(state, scope), queue=state.get("intake"))


intake = Provide(provide_intake, sync_to_thread=False)
tracking = Provide(create_service_provider(TrackingService))
board = Provide(create_service_provider(BoardService))
lifecycle = Provide(create_service_provider(LifecycleService))
moderation = Provide(create_service_provider(ModerationService))
