"""Downloads of tables the services produce: CSV (with a BOM, safe from formula injection) or XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from litestar import Response

from voice.errors import NotFound
from voice.i18n import _, direction

MEDIA_TYPES = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to text types itself
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# A cell starting with one of these is run as a formula by spreadsheets (CSV injection, OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula: a leading quote before a formula start. Empty
    cells stay empty, numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM lets Excel read Arabic as UTF-8


def to_xlsx(header: list[str], rows: list[list[Any]], sheet: str = "Voice") -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = book.add_worksheet(sheet[:31])
    if direction() == "rtl":  # an Arabic reader's sheet starts at the right, as the page did
        ws.right_to_left()
    bold = book.add_format({"bold": True})
    ws.write_row(0, 0, header, bold)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    book.close()
    return buf.getvalue()


def download(name: str, fmt: str, header: list[str], rows: list[list[Any]]) -> Response[bytes]:
    """The table as a dated attachment ("voice-<name>-<yyyymmdd>.<fmt>"); an unknown format is not found."""
    if fmt == "csv":
        body = to_csv(header, rows)
    elif fmt == "xlsx":
        body = to_xlsx(header, rows, name)
    else:
        raise NotFound(_("Unknown export."))
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="voice-{name}-{stamp}.{fmt}"', "Cache-Control": "no-store"})
