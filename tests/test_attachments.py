"""Attachments end to end: a screenshot sent with feedback reaches the agency and no public page (board,
tracking page, API, Open311) until a moderator publishes it; photos lose their EXIF (GPS above all); a
renamed program is refused in the reader's language with nothing written; PDFs must parse; size limits
per kind; rights (other agencies, the public, administrators, the uploader); award entry documents; and
the storage itself, against the local backend and an S3-compatible one (moto's server, in process)."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import csrf_token, post_form
from tests.factories import PASSWORD, make_agency, make_user
from voice.accounts.models import Role
from voice.attachments.checks import Kind, Upload, inspect
from voice.attachments.clamd import scan
from voice.attachments.models import Attachment
from voice.attachments.services import AttachmentService
from voice.attachments.settings import MB, AttachmentsSettings
from voice.attachments.storage import storage_for
from voice.errors import ValidationFailed
from voice.feedback.models import Feedback

BODY = "تطبيق الجوازات يعرض رسالة خطأ عند الدفع ولا أستطيع إكمال تجديد الجواز"
GPS_IFD = 0x8825
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def png(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (10, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A phone photo as phones send them: EXIF with the camera, the time and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0132] = "2026:11:27 10:00:00"  # DateTime
    exif[GPS_IFD] = {1: "N", 2: (24.0, 42.0, 36.5), 3: "E", 4: (46.0, 43.0, 12.25)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode." * 8


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    assert (await post_form(client, "/signin", {"email": email, "password": PASSWORD})).status_code == 303


async def send_feedback(client: httpx.AsyncClient, agency: str, file: tuple[str, bytes, str] | None,
                        htmx: bool = False, **fields: str) -> httpx.Response:
    token = await csrf_token(client)
    data = {"agency": agency, "kind": "complaint", "submitter_kind": "individual", "body": BODY,
            "publish": "on", "_csrf_token": token, **fields}
    files = {"screenshot": file} if file else {"screenshot": ("", b"", "application/octet-stream")}
    return await client.post("/feedback", data=data, files=files, headers={"hx-request": "true"} if htmx else None)


async def keys(settings: AttachmentsSettings) -> set[str]:
    return set(await storage_for(settings).keys())


def app_settings(client: httpx.AsyncClient) -> AttachmentsSettings:
    return client._transport.app.state.sections["attachments"]  # type: ignore[attr-defined]


async def test_screenshot_reaches_the_agency_and_no_public_page(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    other = await make_agency(db, "traffic")
    staff = await make_user(db, Role.AGENCY_STAFF, agency)
    stranger = await make_user(db, Role.AGENCY_STAFF, other)
    admin = await make_user(db, Role.ADMIN)
    shot = png((80, 60))
    sent = await send_feedback(client, "passports", ("خطأ الدفع.png", shot, "image/png"))
    assert sent.status_code == 303, sent.text
    item = await db.scalar(select(Feedback))
    assert item.is_public  # the text is on the board…
    attachment = await db.scalar(select(Attachment))
    assert (attachment.owner_kind, attachment.owner_id, attachment.media_type) == ("feedback", item.id, "image/png")
    assert attachment.filename == "خطأ الدفع.png" and attachment.storage_key in await keys(app_settings(client))
    link = f"/attachments/{attachment.id}"

    # …the screenshot is not: not on the board, the tracking page, the API or Open311, nor by its address.
    for path in ("/feedback", "/feedback?agency=passports", f"/track/{item.tracking_code}",
                 f"/api/v1/feedback/{item.tracking_code}", "/open311/v2/requests.json",
                 f"/open311/v2/requests/{item.tracking_code}.json"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "/attachments/" not in page.text and "خطأ الدفع" not in page.text, path
    tracked = await client.get(f"/track/{item.tracking_code}")
    assert 'data-testid="files-received"' in tracked.text  # the sender learns it arrived, not more
    assert (await client.get(link)).status_code == 404
    assert (await client.get(link + "?download=1")).status_code == 404

    # Another agency's staff: 404 as well; the owning agency's staff see it on the item page and open it.
    await sign_in(client, stranger.email)
    assert (await client.get(link)).status_code == 404
    await client.post("/signout", data={"_csrf_token": await csrf_token(client)})
    client.cookies.clear()
    await sign_in(client, staff.email)
    page = await client.get(f"/agency/feedback/{item.id}")
    assert page.status_code == 200 and f'src="{link}"' in page.text
    opened = await client.get(link)
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/png"
    assert opened.headers["cache-control"] == "private, no-store"
    assert "sandbox" in opened.headers["content-security-policy"]
    assert Image.open(io.BytesIO(opened.content)).size == (80, 60)
    downloaded = await client.get(link + "?download=1")
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    client.cookies.clear()
    await sign_in(client, admin.email)
    assert (await client.get(link)).status_code == 200


async def test_a_moderator_publishes_a_screenshot_and_only_then_the_public_sees_it(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency)
    other = await make_user(db, Role.AGENCY_STAFF, await make_agency(db, "traffic"))
    assert (await send_feedback(client, "passports", ("s.png", png(), "image/png"))).status_code == 303
    attachment = await db.scalar(select(Attachment))
    link = f"/attachments/{attachment.id}"
    await sign_in(client, other.email)
    refused = await post_form(client, f"{link}/publish", {"published": "1"})
    assert refused.status_code == 404  # another agency cannot publish it
    client.cookies.clear()
    await sign_in(client, staff.email)
    done = await post_form(client, f"{link}/publish", {"published": "1", "next": "//evil.example/"})
    assert done.status_code == 303 and done.headers["location"] == "/"
    client.cookies.clear()
    public = await client.get(link)
    assert public.status_code == 200 and public.headers["cache-control"].startswith("public")
    board = await client.get("/feedback")
    assert f'href="{link}"' in board.text
    # Withdrawn: gone again.
    await sign_in(client, staff.email)
    await post_form(client, f"{link}/publish", {"published": "0"})
    client.cookies.clear()
    assert (await client.get(link)).status_code == 404
    assert "/attachments/" not in (await client.get("/feedback")).text


async def test_a_photos_gps_and_camera_data_are_gone_after_upload(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    photo = jpeg_with_gps()
    original = Image.open(io.BytesIO(photo)).getexif()
    assert original.get_ifd(GPS_IFD)[1] == "N" and original[0x010F] == "PhoneMaker"  # the test photo has them
    assert (await send_feedback(client, "passports", ("IMG_0042.JPG", photo, "image/jpeg"))).status_code == 303
    attachment = await db.scalar(select(Attachment))
    stored = await storage_for(app_settings(client)).get(attachment.storage_key)
    cleaned = Image.open(io.BytesIO(stored))
    assert cleaned.format == "JPEG" and cleaned.size == (64, 48)
    assert len(cleaned.getexif()) == 0 and not cleaned.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in stored and b"PhoneMaker" not in stored and b"GPS" not in stored
    assert attachment.filename == "IMG_0042.jpg" and attachment.size == len(stored)


async def test_a_renamed_program_is_refused_in_arabic_and_nothing_is_written(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    before = await keys(app_settings(client))
    refused = await send_feedback(client, "passports", ("screenshot.png", EXE, "image/png"))
    assert refused.status_code == 422
    assert "برنامج" in refused.text and 'id="e-screenshot"' in refused.text
    htmx = await send_feedback(client, "passports", ("photo.jpg", EXE, "image/jpeg"), htmx=True)
    assert htmx.status_code == 200 and "<html" not in htmx.text and "برنامج" in htmx.text
    client.cookies.set("lang", "en")
    english = await send_feedback(client, "passports", ("photo.jpg", EXE, "image/jpeg"))
    assert english.status_code == 422 and "This file is a program" in english.text
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0
    assert await db.scalar(select(func.count()).select_from(Attachment)) == 0
    assert await keys(app_settings(client)) == before


async def test_a_file_error_and_text_errors_are_shown_together(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    response = await send_feedback(client, "passports", ("a.txt", b"just some words, not an image", "text/plain"),
                                   body="قصير")
    assert response.status_code == 422
    assert 'id="e-screenshot"' in response.text and 'id="e-body"' in response.text
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 0


async def test_htmx_upload_answers_the_receipt_and_the_form_works_without_a_file(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    page = await client.get("/feedback/new")
    assert 'enctype="multipart/form-data"' in page.text and 'hx-encoding="multipart/form-data"' in page.text
    assert 'type="file"' in page.text and "data-upload-progress" in page.text
    ok = await send_feedback(client, "passports", ("s.png", png(), "image/png"), htmx=True)
    assert ok.status_code == 200 and ok.headers["hx-redirect"].startswith("/track/")  # the receipt's own address
    receipt = await client.get(ok.headers["hx-redirect"])
    assert 'data-testid="tracking-code"' in receipt.text and 'data-testid="files-received"' in receipt.text
    plain = await send_feedback(client, "passports", None)
    assert plain.status_code == 303
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 2
    assert await db.scalar(select(func.count()).select_from(Attachment)) == 1


def test_checks_read_the_content_never_the_name() -> None:
    settings = AttachmentsSettings(max_image=1 * MB, max_pdf=1 * MB)
    both = (Kind.IMAGE, Kind.PDF)
    # A PNG called .exe is a PNG (and is renamed to say so).
    clean = inspect(Upload(png(), "report.exe"), both, settings, "file")
    assert clean.media_type == "image/png" and clean.filename == "report.png"
    # An ELF binary and a script called .png, an HTML page called .jpg: refused.
    for data in (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, b"#!/bin/sh\nrm -rf /\n",
                 b"<html><script>alert(1)</script></html>"):
        with pytest.raises(ValidationFailed) as refused:
            inspect(Upload(data, "x.png"), both, settings, "file")
        assert "file" in refused.value.errors
    # A real PDF passes with its page count; a file that only starts like one does not.
    document = inspect(Upload(pdf(), "draft.pdf"), both, settings, "file")
    assert document.pages == 1 and document.media_type == "application/pdf"
    with pytest.raises(ValidationFailed, match="PDF"):
        inspect(Upload(b"%PDF-1.7\n" + b"garbage " * 200, "draft.pdf"), both, settings, "file")
    # A PDF where only images are accepted; a truncated image.
    with pytest.raises(ValidationFailed):
        inspect(Upload(pdf(), "s.pdf"), (Kind.IMAGE,), settings, "file")
    with pytest.raises(ValidationFailed):
        inspect(Upload(png()[:60], "s.png"), both, settings, "file")
    # Limits per kind: a 1 MB image limit refuses a larger image, a PDF has its own limit.
    noisy = io.BytesIO()
    Image.effect_noise((800, 800), 100).convert("RGB").save(noisy, "PNG")
    assert len(noisy.getvalue()) > MB
    with pytest.raises(ValidationFailed, match="ميغابايت"):
        inspect(Upload(noisy.getvalue(), "big.png"), both, settings, "file")
    assert inspect(Upload(noisy.getvalue(), "big.png"), both, replace(settings, max_image=2 * MB), "file").width == 800


# --- storage: the same tests against the local backend and an S3-compatible one -----------------------------

@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in this process, on a loopback port, with one bucket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="test-key", AWS_SECRET_ACCESS_KEY="test-secret")
    assert httpx.put(f"{endpoint}/voice-attachments").status_code == 200
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AttachmentsSettings:
    if request.param == "local":
        return AttachmentsSettings(local_dir=tmp_path / "files")
    endpoint = request.getfixturevalue("s3_endpoint")
    return AttachmentsSettings(s3_bucket="voice-attachments", s3_prefix=f"t{tmp_path.name}",
                               s3_endpoint=endpoint, s3_region="us-east-1")


async def test_storage_puts_reads_lists_and_deletes(backend: AttachmentsSettings) -> None:
    storage = storage_for(backend)
    key = storage.new_key("feedback")
    assert key.startswith("feedback/") and len(key.rsplit("/", 1)[-1]) >= 32
    await storage.put(key, b"\x89PNG bytes")
    assert await storage.get(key) == b"\x89PNG bytes" and await storage.exists(key)
    assert key in await storage.keys("feedback")
    await storage.delete(key)
    assert not await storage.exists(key) and key not in await storage.keys()
    await storage.delete(key)  # deleting twice is harmless
    with pytest.raises(FileNotFoundError):
        await storage.get(key)


async def test_a_file_is_kept_only_if_its_row_commits(backend: AttachmentsSettings, db: AsyncSession) -> None:
    user = await make_user(db, Role.ADMIN)
    service = AttachmentService(session=db).using(backend)
    kept = await service.attach(Upload(png(), "kept.png"), (Kind.IMAGE,), owner_kind="feedback", owner_id=1,
                                uploaded_by=user)
    await db.commit()
    kept_id, kept_key = kept.id, kept.storage_key
    assert await keys(backend) == {kept_key}
    dropped = await service.attach(Upload(jpeg_with_gps(), "dropped.jpg"), (Kind.IMAGE,), owner_kind="feedback",
                                   owner_id=2, uploaded_by=user)
    assert dropped.storage_key in await keys(backend)  # written before its row…
    await db.rollback()  # …and deleted with it
    assert await keys(backend) == {kept_key}
    assert await db.scalar(select(func.count()).select_from(Attachment)) == 1
    kept = await db.get_one(Attachment, kept_id)
    assert await service.content(kept) == await storage_for(backend).get(kept_key)
    # A removal takes the file only once it commits.
    assert await service.remove_for_owner("feedback", 1) == 1
    await db.rollback()
    assert await keys(backend) == {kept_key}
    assert await service.remove_for_owner("feedback", 1) == 1
    await db.commit()
    assert await keys(backend) == set()


# --- ClamAV --------------------------------------------------------------------------------------------------

class FakeClamd:
    """A stand-in for clamd on a loopback port that speaks INSTREAM and finds the EICAR test string."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readuntil(b"\0") == b"zINSTREAM\0"
        data = b""
        while size := struct.unpack(">I", await reader.readexactly(4))[0]:
            data += await reader.readexactly(size)
        self.received.append(data)
        writer.write(b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0")
        await writer.drain()
        writer.close()


@pytest.fixture
async def fake_clamd() -> AsyncIterator[tuple[str, FakeClamd]]:
    fake = FakeClamd()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}", fake
    server.close()
    await server.wait_closed()


async def test_a_file_clamd_flags_is_refused_and_nothing_is_written(
        fake_clamd: tuple[str, FakeClamd], db: AsyncSession, tmp_path: Path) -> None:
    address, fake = fake_clamd
    settings = AttachmentsSettings(local_dir=tmp_path / "files", clamd=address)
    service = AttachmentService(session=db).using(settings)
    big = png((600, 600)) + b"\0" * 200_000  # more than one INSTREAM chunk
    await service.check(Upload(big, "s.png"), (Kind.IMAGE,))
    assert fake.received[-1] == big  # the whole file, reassembled from its chunks
    with pytest.raises(ValidationFailed, match="Eicar-Test-Signature"):
        await service.attach(Upload(png() + EICAR, "s.png"), (Kind.IMAGE,), owner_kind="feedback", owner_id=1,
                             uploaded_by=None)
    assert await keys(settings) == set() and await db.scalar(select(func.count()).select_from(Attachment)) == 0
    # A configured scanner that cannot be reached refuses the upload rather than letting it through.
    down = AttachmentService(session=db).using(replace(settings, clamd="127.0.0.1:1", clamd_timeout=2))
    with pytest.raises(Exception, match="الفيروسات") as unavailable:
        await down.check(Upload(png(), "s.png"), (Kind.IMAGE,))
    assert unavailable.value.status_code == 503  # type: ignore[attr-defined]


def _real_clamd() -> str | None:
    """A running clamd, if this machine has one: VOICE_TEST_CLAMD, Debian's socket, or the usual TCP port."""
    candidates = [os.environ.get("VOICE_TEST_CLAMD") or "", "/run/clamav/clamd.ctl", "/var/run/clamav/clamd.ctl",
                  "127.0.0.1:3310"]
    for address in filter(None, candidates):
        try:
            if address.startswith("/"):
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(2)
                    s.connect(address)
                    s.sendall(b"zPING\0")
                    answer = s.recv(16)
            else:
                host, _, port = address.rpartition(":")
                with socket.create_connection((host, int(port)), timeout=2) as s:
                    s.sendall(b"zPING\0")
                    answer = s.recv(16)
        except OSError:
            continue
        if answer.startswith(b"PONG"):
            return address
    return None


REAL_CLAMD = _real_clamd()

if REAL_CLAMD:  # defined only where a clamd runs: nowhere else does this test exist (rather than skip)
    async def test_a_real_clamd_finds_the_eicar_test_file_and_passes_a_clean_image(db: AsyncSession) -> None:
        assert REAL_CLAMD is not None
        flagged = await scan(REAL_CLAMD, EICAR)
        assert not flagged.clean and "eicar" in (flagged.signature or "").lower()
        assert (await scan(REAL_CLAMD, png())).clean
        # Through the service: a clean photo passes the scan and is stored without its GPS.
        settings = AttachmentsSettings(local_dir=Path(os.environ["VOICE_ATTACHMENTS_DIR"]), clamd=REAL_CLAMD)
        clean = await AttachmentService(session=db).using(settings).check(Upload(jpeg_with_gps(), "p.jpg"), (Kind.IMAGE,))
        assert b"PhoneMaker" not in clean.data


# --- award entry documents ------------------------------------------------------------------------------------

async def test_award_entry_documents_are_uploads_read_by_the_agency_and_its_judges_only(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    from voice.awards.editions import EditionService
    from voice.awards.lifecycle import EditionLifecycleService
    from voice.awards.models import BranchCode, EditionStatus, Entry

    admin = await make_user(db, Role.ADMIN)
    agency, other = await make_agency(db), await make_agency(db)
    boss = await make_user(db, Role.AGENCY_ADMIN, agency)
    colleague = await make_user(db, Role.AGENCY_STAFF, agency)
    outsider = await make_user(db, Role.AGENCY_ADMIN, other)
    judge, stranger_judge = await make_user(db, Role.JUDGE), await make_user(db, Role.JUDGE)
    editions = EditionService(session=db)
    edition = await editions.create_edition(admin, {
        "number": "3", "name_ar": "الدورة 3", "name_en": "Edition 3", "opens_on": "2025-01-01",
        "closes_on": "2025-12-31", "evidence_from": "2025-01-01", "evidence_to": "2025-12-31"})
    edition.status = EditionStatus.OPEN_FOR_ENTRIES
    await db.commit()
    before = await keys(app_settings(client))
    await sign_in(client, boss.email)
    page = await client.get("/awards/agency/")
    assert 'name="document_files"' in page.text and 'enctype="multipart/form-data"' in page.text
    form = {"branch": "g2c", "title": "بوابة الخدمات الموحدة", "narrative": "وصف مشاركتنا في فرع خدمة الأفراد بالتفصيل.",
            "documents": "دليل الخدمة https://example.sa/guide.pdf", "document_title": "",
            "_csrf_token": await csrf_token(client)}
    path = f"/awards/agency/editions/{edition.id}/entries"

    # One bad file among good ones: nothing is saved, neither the entry nor any file.
    refused = await client.post(path, data=form, files=[("document_files", ("report.pdf", pdf(), "application/pdf")),
                                                        ("document_files", ("annex.pdf", EXE, "application/pdf"))])
    assert refused.status_code == 422 and "برنامج" in refused.text
    assert await db.scalar(select(func.count()).select_from(Entry)) == 0
    assert await db.scalar(select(func.count()).select_from(Attachment)) == 0
    assert await keys(app_settings(client)) == before

    saved = await client.post(path, data=form, files=[("document_files", ("report.pdf", pdf(), "application/pdf")),
                                                      ("document_files", ("site.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert saved.status_code == 303, saved.text
    entry = await db.scalar(select(Entry))
    assert entry.documents == [{"title": "دليل الخدمة", "url": "https://example.sa/guide.pdf"}]  # links stay
    files = (await db.scalars(select(Attachment).order_by(Attachment.id))).all()
    assert [(f.owner_kind, f.owner_id, f.kind) for f in files] == [("award_entry", entry.id, "pdf"),
                                                                  ("award_entry", entry.id, "image")]
    photo = await storage_for(app_settings(client)).get(files[1].storage_key)
    assert b"Exif" not in photo and not Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)
    listed = await client.get("/awards/agency/")
    assert f"/attachments/{files[0].id}" in listed.text and "report.pdf" in listed.text
    # The entering agency's administrator removes one while entries are open.
    removed = await post_form(client, f"/attachments/{files[1].id}/remove", {"next": "/awards/agency/"})
    assert removed.status_code == 303 and removed.headers["location"] == "/awards/agency/"
    assert await db.scalar(select(func.count()).select_from(Attachment)) == 1
    assert files[1].storage_key not in await keys(app_settings(client))
    document = f"/attachments/{files[0].id}"

    # Judging: the judge of the branch reads it under a neutral name; nobody else outside the agency.
    await EditionLifecycleService(session=db).advance(admin, edition.id, "judging")
    g2c = await editions.branch_by_code(edition.id, BranchCode.G2C)
    g2b = await editions.branch_by_code(edition.id, BranchCode.G2B)
    await editions.assign_judge(admin, g2c.id, judge.email)
    await editions.assign_judge(admin, g2b.id, stranger_judge.email)
    await db.commit()
    assert (await post_form(client, f"{document}/remove", {})).status_code == 404  # entries are closed
    for person, status in ((colleague, 200), (admin, 200), (judge, 200), (stranger_judge, 404), (outsider, 404)):
        client.cookies.clear()
        await sign_in(client, person.email)
        opened = await client.get(document)
        assert opened.status_code == status, person.role
        if status == 200:
            assert opened.headers["content-type"] == "application/pdf"
            assert opened.headers["content-disposition"].startswith("attachment;")
    client.cookies.clear()
    await sign_in(client, judge.email)
    scoring = await client.get(f"/awards/judging/entries/{entry.id}")
    assert scoring.status_code == 200 and f'href="{document}?download=1"' in scoring.text
    neutral = await client.get(document)
    assert f"file-{files[0].id}.pdf" in neutral.headers["content-disposition"]
    assert "report" not in neutral.headers["content-disposition"]
    client.cookies.clear()
    assert (await client.get(document)).status_code == 404


async def test_the_uploader_reads_their_own_screenshot_finds_it_in_their_data_and_erasure_unlinks_it(
        client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    citizen = await make_user(db, Role.CITIZEN)
    await sign_in(client, citizen.email)
    assert (await send_feedback(client, "passports", ("خطأ.png", png(), "image/png"))).status_code == 303
    attachment = await db.scalar(select(Attachment))
    assert attachment.uploaded_by_id == citizen.id
    assert (await client.get(f"/attachments/{attachment.id}")).status_code == 200  # their own upload
    data = (await client.get("/account/data.json")).json()
    assert data["files"] == [{"id": attachment.id, "attached_to": "feedback", "name": "خطأ.png", "type": "image/png",
                              "size": attachment.size, "address": f"/attachments/{attachment.id}",
                              "created_at": attachment.created_at.isoformat()}]
    erased = await post_form(client, "/account/erase", {"confirm": citizen.email})
    assert erased.status_code == 303
    await db.refresh(attachment)
    assert attachment.uploaded_by_id is None  # the agency keeps the file with the item, unlinked
    assert await storage_for(app_settings(client)).exists(attachment.storage_key)
