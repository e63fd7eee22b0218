"""Every table of the application, imported in one place so Alembic and the tests see them all."""

from voice.accounts.models import ApiToken, AuditEvent, StoreItem, User
from voice.catalogue.models import Agency, Service
from voice.db import metadata

__all__ = ["Agency", "ApiToken", "AuditEvent", "Service", "StoreItem", "User", "metadata"]
