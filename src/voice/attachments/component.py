"""Attachments (uploads checked by content, stored behind one interface, served with rights checked),
as a component of the platform."""

from voice.attachments.settings import AttachmentsSettings
from voice.attachments.web.controllers import AttachmentPages
from voice.component import Component

component = Component(name="attachments", route_handlers=[AttachmentPages], settings=AttachmentsSettings.from_env)
