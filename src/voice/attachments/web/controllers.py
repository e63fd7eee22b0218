"""Files are served only here, after the viewer's rights are checked; never from a static folder or a
storage URL. Images are shown inline, PDFs are downloaded; every answer is sandboxed (CSP) and typed by
what the file was found to be when it was checked, never by its name."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect, Response
from sqlalchemy.ext.asyncio import AsyncSession

from voice.attachments.services import AttachmentService
from voice.ids import MAX_ID
from voice.web.auth import signed_in
from voice.web.forms import FormData, field, safe_next

Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


def provide_attachments(state: State, db_session: AsyncSession) -> AttachmentService:
    """The request's AttachmentService, with the app's attachments section (storage, limits, scanner)."""
    return AttachmentService(session=db_session).using(state.sections["attachments"])


attachments = Provide(provide_attachments, sync_to_thread=False)


class AttachmentPages(Controller):
    path = "/attachments"
    include_in_schema = False
    dependencies = {"attachments": attachments}

    @get("/{attachment_id:int}", name="attachment")
    async def download(self, request: Request, attachment_id: Id, attachments: AttachmentService,
                       download: bool = False) -> Response[bytes]:
        viewer = request.scope.get("user")
        attachment = await attachments.readable(viewer, attachment_id)
        body = await attachments.content(attachment)
        inline = attachment.is_image and not download
        disposition = "inline" if inline else "attachment"
        name = await attachments.download_name(viewer, attachment)
        ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or f"file-{attachment.id}"
        headers = {
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
                                   f"filename*=UTF-8''{quote(name)}",
            # Private files stay out of shared caches; published ones may be kept briefly.
            "Cache-Control": "public, max-age=300" if attachment.published else "private, no-store",
            "Cross-Origin-Resource-Policy": "same-origin",
        }
        return Response(content=body, media_type=attachment.media_type, headers=headers)

    @post("/{attachment_id:int}/publish", name="attachment_publish", guards=[signed_in])
    async def publish(self, request: Request, attachment_id: Id, data: FormData,
                      attachments: AttachmentService) -> Redirect:
        await attachments.publish(request.user, attachment_id, field(data, "published") in ("1", "on", "true"))
        return _back(request, data)

    @post("/{attachment_id:int}/remove", name="attachment_remove", guards=[signed_in])
    async def remove(self, request: Request, attachment_id: Id, data: FormData,
                     attachments: AttachmentService) -> Redirect:
        await attachments.remove(request.user, attachment_id)
        return _back(request, data)


def _back(request: Any, data: dict[str, Any]) -> Redirect:
    return Redirect(safe_next(field(data, "next"), "/"), status_code=303)
