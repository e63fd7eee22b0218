"""Reading a file field of a multipart form into an ``Upload`` (the web side of voice.attachments)."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import UploadFile

from voice.attachments.checks import Upload
from voice.attachments.services import default_settings

# The largest request body an upload form accepts (the largest file of any kind and the form around it);
# read at start-up with the rest of the attachments section.
UPLOAD_LIMIT = default_settings().max_upload


async def upload_of(value: Any) -> Upload | None:
    """The file sent in a form field, or None when the field was left empty."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read()
    await value.close()
    return Upload(data=data, filename=value.filename)  # an empty file is refused by the checks, with a reason
