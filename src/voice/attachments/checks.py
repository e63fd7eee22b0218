"""What a file really is, decided by its content and never by its name: magic bytes (filetype), then
images decoded and re-encoded from their pixels alone (Pillow: EXIF with GPS, XMP, IPTC, comments and
colour profiles are all left behind), PDFs parsed (pypdf). Runs in a worker thread: decoding is CPU work.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from enum import StrEnum

import filetype
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from voice.attachments.settings import MB, AttachmentsSettings
from voice.errors import ValidationFailed
from voice.i18n import _, fmt_number

# Beyond this many pixels an image is refused before it is decoded (a "decompression bomb": a small
# file that expands to gigabytes). 40 megapixels holds any phone photo.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
# Programs and scripts, by their first bytes: refused with a message of their own.
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_PROGRAM_TYPES = {"application/x-msdownload", "application/x-executable", "application/x-elf",
                  "application/x-mach-binary", "application/x-sharedlib"}


class Kind(StrEnum):
    IMAGE = "image"
    PDF = "pdf"


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its bytes and the name the sender's device gave it (display only)."""

    data: bytes
    filename: str = ""


@dataclass(frozen=True)
class CleanFile:
    """A file that passed every check, in the form that will be stored."""

    data: bytes
    kind: Kind
    media_type: str
    filename: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None


def display_name(filename: str, media_type: str) -> str:
    """The sender's file name for display and downloads only: no folders, no control characters, an
    extension that matches what the file is (a stored ``x.exe`` that is a PNG is shown as ``x.png``)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    stem = re.sub(r"\s+", " ", name.rsplit(".", 1)[0]).strip(" .")[:80] or "file"
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}[media_type]
    return f"{stem}.{extension}"


def _accepted_types(kinds: tuple[Kind, ...]) -> str:
    names = []
    if Kind.IMAGE in kinds:
        names.append(_("an image (JPEG, PNG, WebP or GIF)"))
    if Kind.PDF in kinds:
        names.append(_("a PDF document"))
    return _(" or ").join(names)


def inspect(upload: Upload, kinds: tuple[Kind, ...], settings: AttachmentsSettings, field: str) -> CleanFile:
    """The file cleaned for storage, or ValidationFailed (on ``field``) saying why in the reader's language."""
    data = upload.data
    if not data:
        raise ValidationFailed(_("The file is empty."), field=field)
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess else ""
    if mime in _PROGRAM_TYPES or data.startswith(_PROGRAM_MAGIC):
        raise ValidationFailed(_("This file is a program, not %(accepted)s. Programs are never accepted, "
                                 "whatever the file is called.", accepted=_accepted_types(kinds)), field=field)
    if mime in _IMAGE_TYPES and Kind.IMAGE in kinds:
        _within(len(data), settings.max_image, field)
        return _clean_image(upload, field)
    if mime == "application/pdf" and Kind.PDF in kinds:
        _within(len(data), settings.max_pdf, field)
        return _checked_pdf(upload, field)
    raise ValidationFailed(_("This file is not %(accepted)s. The type is read from the file's content, not "
                             "from its name.", accepted=_accepted_types(kinds)), field=field)


def _within(size: int, limit: int, field: str) -> None:
    if size > limit:
        raise ValidationFailed(_("The file is too large: at most %(mb)s MB.", mb=fmt_number(limit / MB, 0 if limit % MB == 0 else 1)), field=field)


def _clean_image(upload: Upload, field: str) -> CleanFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as source:
                if source.width * source.height > MAX_PIXELS:
                    raise ValidationFailed(_("The image is too large: at most 40 megapixels."), field=field)
                source.seek(0)  # an animation keeps its first frame
                upright = ImageOps.exif_transpose(source)  # photos keep their orientation once EXIF is gone
                keep_jpeg = source.format == "JPEG"
                mode = "RGB" if keep_jpeg else ("RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB")
                converted = upright.convert(mode)
                # A new image from the pixels alone: nothing of the source's metadata comes along.
                pixels = Image.frombytes(mode, converted.size, converted.tobytes())
    except ValidationFailed:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            EOFError) as exc:
        raise ValidationFailed(_("The image could not be read. Take the screenshot or photo again."),
                               field=field) from exc
    out = io.BytesIO()
    if keep_jpeg:
        pixels.save(out, format="JPEG", quality=85)
        media_type = "image/jpeg"
    else:
        pixels.save(out, format="PNG")
        media_type = "image/png"
    return CleanFile(data=out.getvalue(), kind=Kind.IMAGE, media_type=media_type,
                     filename=display_name(upload.filename, media_type), width=pixels.width, height=pixels.height)


def _checked_pdf(upload: Upload, field: str) -> CleanFile:
    try:
        reader = PdfReader(io.BytesIO(upload.data), strict=False)
        if reader.is_encrypted:
            raise ValidationFailed(_("The PDF is password-protected. Attach it without a password."), field=field)
        pages = len(reader.pages)
        for page in reader.pages:  # every page must parse, not only the trailer
            page.mediabox  # noqa: B018
    except ValidationFailed:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ValidationFailed(_("This PDF could not be read. Save it again as a PDF and attach it."),
                               field=field) from exc
    if pages == 0:
        raise ValidationFailed(_("This PDF has no pages."), field=field)
    return CleanFile(data=upload.data, kind=Kind.PDF, media_type="application/pdf",
                     filename=display_name(upload.filename, "application/pdf"), pages=pages)
