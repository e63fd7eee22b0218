"""Every table of the application, imported in one place so Alembic and the tests see them all."""

from ideas.models import Idea, IdeaComment, IdeaFollower, IdeaReport, IdeaStatusEvent, IdeaVote
from voice.accounts.models import (
    AccountToken,
    ApiToken,
    AuditEvent,
    RecoveryCode,
    SignInFailure,
    StoreItem,
    User,
)
from voice.attachments.models import Attachment
from voice.awards.models import (
    Branch,
    Conflict,
    Criterion,
    Edition,
    Entry,
    JudgeAssignment,
    ResultSnapshot,
    Score,
    ScoreHistory,
    ScoreSheet,
)
from voice.catalogue.models import Agency, Service
from voice.consultations.models import (
    Consultation,
    ConsultationArticle,
    ConsultationComment,
    ConsultationReport,
)
from voice.db import metadata
from voice.feedback.models import Event, Feedback, IdempotencyKey, Report, Response, Support
from voice.notifications.models import Notification
from voice.themes.models import Theme, ThemeModel, ThemeRun
from voice.workspace.models import BulkAnswer, Improvement, Transfer

__all__ = [
    "AccountToken",
    "Agency",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Branch",
    "BulkAnswer",
    "Conflict",
    "Consultation",
    "ConsultationArticle",
    "ConsultationComment",
    "ConsultationReport",
    "Criterion",
    "Edition",
    "Entry",
    "Event",
    "Feedback",
    "Idea",
    "IdeaComment",
    "IdeaFollower",
    "IdeaReport",
    "IdeaStatusEvent",
    "IdeaVote",
    "IdempotencyKey",
    "Improvement",
    "JudgeAssignment",
    "Notification",
    "RecoveryCode",
    "Report",
    "Response",
    "ResultSnapshot",
    "Score",
    "ScoreHistory",
    "ScoreSheet",
    "Service",
    "SignInFailure",
    "StoreItem",
    "Support",
    "Theme",
    "ThemeModel",
    "ThemeRun",
    "Transfer",
    "User",
    "metadata",
]
