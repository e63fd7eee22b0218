"""The full draft of a consultation as a PDF, through HTTP: staff upload it on the edit page (PDF only,
checked by content), and the public downloads it from the consultation page once it is published."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfWriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import csrf_token, post_form
from tests.factories import make_agency, make_user
from tests.test_consultations_pages import draft_form, sign_in
from voice.accounts.models import Role
from voice.attachments.models import Attachment
from voice.consultations.models import Consultation


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def upload(client: httpx.AsyncClient, cid: int, name: str, body: bytes, media: str) -> httpx.Response:
    return await client.post(f"/agency/consultations/{cid}/draft-document",
                             data={"_csrf_token": await csrf_token(client)},
                             files={"draft_document": (name, body, media)})


async def test_staff_attach_the_draft_pdf_and_the_public_downloads_it_once_published(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    created = await post_form(client, "/agency/consultations", draft_form())
    cid = int(created.headers["location"].rsplit("/", 1)[1])
    edit = await client.get(f"/agency/consultations/{cid}/edit")
    assert 'data-testid="draft-document-form"' in edit.text and 'enctype="multipart/form-data"' in edit.text

    # A renamed image or text file is refused by its content, with the reason on the form; nothing is kept.
    refused = await upload(client, cid, "draft.pdf", b"GIF89a" + b"\x00" * 64, "application/pdf")
    assert refused.status_code == 422 and 'id="err-draft_document"' in refused.text
    refused = await upload(client, cid, "draft.pdf", "نص عادي وليس ملف PDF".encode() * 20, "application/pdf")
    assert refused.status_code == 422
    assert (await db.scalar(select(Attachment.id).where(Attachment.owner_kind == "consultation"))) is None

    first = await upload(client, cid, "مسودة الدليل.pdf", pdf(), "application/pdf")
    assert first.status_code == 303, first.text[:400]
    second = await upload(client, cid, "مسودة الدليل المحدثة.pdf", pdf(), "application/pdf")
    assert second.status_code == 303
    files = list(await db.scalars(select(Attachment).where(Attachment.owner_kind == "consultation",
                                                           Attachment.owner_id == cid)))
    assert len(files) == 1 and files[0].media_type == "application/pdf"  # the new file replaced the old one
    assert (await db.scalar(select(Consultation.draft_document).where(Consultation.id == cid))) == str(files[0].id)
    assert 'data-testid="draft-document"' in (await client.get(f"/agency/consultations/{cid}/edit")).text
    address = f"/attachments/{files[0].id}"
    assert (await client.get(address)).status_code == 200  # the agency reads its own draft

    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as anonymous:
        assert (await anonymous.get(address)).status_code == 404  # not while the consultation is a draft
        assert (await post_form(client, f"/agency/consultations/{cid}/publish", {})).status_code == 303
        page = await anonymous.get(f"/consultations/{cid}")
        assert page.status_code == 200 and f'href="{address}?download=1"' in page.text
        got = await anonymous.get(f"{address}?download=1")
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        assert got.headers["content-type"].startswith("application/pdf")
        assert got.headers["content-disposition"].startswith("attachment;")


async def test_other_agencies_staff_cannot_attach_a_draft_pdf(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency, other = await make_agency(db), await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    outsider = await make_user(db, Role.AGENCY_STAFF, agency=other)
    await sign_in(client, staff.email)
    cid = int((await post_form(client, "/agency/consultations", draft_form())).headers["location"].rsplit("/", 1)[1])
    await sign_in(client, outsider.email)
    assert (await upload(client, cid, "draft.pdf", pdf(), "application/pdf")).status_code in (403, 404)
    assert (await db.scalar(select(Attachment.id).where(Attachment.owner_kind == "consultation"))) is None
