"""Every table of the application, imported in one place so Alembic and the tests see them all."""

from ideas.models import Idea, IdeaComment, IdeaFollower, IdeaReport, IdeaStatusEvent, IdeaVote
from voice.accounts.models import ApiToken, AuditEvent, StoreItem, User
from voice.catalogue.models import Agency, Service
from voice.db import metadata
from voice.feedback.models import Event, Feedback, IdempotencyKey, Report, Response, Support
from voice.notify import Notification
from voice.themes.models import Theme, ThemeModel, ThemeRun
from voice.workspace.models import BulkAnswer, Improvement, Transfer

__all__ = [
    "Agency", "ApiToken", "AuditEvent", "Event", "Feedback", "Idea", "IdeaComment", "IdeaFollower", "IdeaReport",
    "IdeaStatusEvent", "IdeaVote", "IdempotencyKey", "Notification", "Report",
    "Response", "Service", "StoreItem", "Support", "Theme", "ThemeModel", "ThemeRun", "User", "metadata",
    "BulkAnswer", "Improvement", "Transfer",
]
