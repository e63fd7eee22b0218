"""public texts stored redacted: backfill of every PublicText column and the public search terms

Every column the public may read is now of type ``voice.db.PublicText``, which stores what it is given
redacted (``voice.text.public_text``). Rows written before — staff answers, status notes, idea decline
reasons and official answers, improvement titles and descriptions, theme labels, award entry titles,
and citizen texts redacted by the older redactor — are redacted here, and the search terms of feedback
and ideas are recomputed from the redacted texts, so public search cannot find an item by a value that
is now redacted. No schema change; downgrade keeps the redacted texts (the originals of citizen texts
are in their private columns; staff texts are public by nature).

Revision ID: 0009
Revises: 0016
Create Date: 2026-11-27 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, maximum length) — the PublicText columns as of this revision.
PUBLIC_COLUMNS = [
    ("feedback", "body_public", None), ("feedback", "moderation_reason", None),
    ("feedback_event", "note", None), ("feedback_response", "body", None), ("bulk_answer", "body", None),
    ("improvement", "title", 200), ("improvement", "description", None), ("theme", "label", 200),
    ("idea", "title", 200), ("idea", "description_public", None), ("idea", "problem_public", None),
    ("idea", "decline_reason", None), ("idea", "answer", None), ("idea", "moderation_reason", None),
    ("idea_comment", "body_public", None), ("idea_comment", "hidden_reason", None),
    ("idea_status_event", "note", None), ("idea_status_event", "answer", None),
    ("award_entry", "title", 200), ("award_entry", "narrative", None), ("award_result", "title", 200),
    ("consultation", "title_ar", 300), ("consultation", "title_en", 300), ("consultation", "summary_ar", None),
    ("consultation", "summary_en", None), ("consultation", "close_reason", None),
    ("consultation", "report_summary", None), ("consultation_article", "title", 300),
    ("consultation_article", "body", None), ("consultation_article", "reason", None),
    ("consultation_article", "amended_body", None), ("consultation_comment", "body_public", None),
    ("consultation_comment", "hidden_reason", None),
]
# What public search indexes, per table (voice.db.PublicSearchText stores search_text(public_text(...))).
SEARCH_SOURCES = {
    "feedback": "body_public",
    "idea": "concat_ws(' ', title, description_public, problem_public)",
}
BATCH = 1000


def upgrade() -> None:
    from voice.text import public_value, search_text

    conn = op.get_bind()
    for table, column, length in PUBLIC_COLUMNS:
        last = 0
        while True:
            rows = conn.execute(sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :last AND {column} IS NOT NULL "  # noqa: S608
                f"ORDER BY id LIMIT {BATCH}"), {"last": last}).all()
            if not rows:
                break
            last = rows[-1][0]
            changed = [{"id": i, "v": new} for i, v in rows if (new := public_value(v, length)) != v]
            if changed:
                conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), changed)  # noqa: S608
    for table, source in SEARCH_SOURCES.items():
        last = 0
        while True:
            rows = conn.execute(sa.text(
                f"SELECT id, {source}, search_text FROM {table} WHERE id > :last "  # noqa: S608
                f"ORDER BY id LIMIT {BATCH}"), {"last": last}).all()
            if not rows:
                break
            last = rows[-1][0]
            changed = [{"id": i, "v": t} for i, text, old in rows
                       if (t := search_text(public_value(text or ""))) != old]
            if changed:
                conn.execute(sa.text(f"UPDATE {table} SET search_text = :v WHERE id = :id"), changed)  # noqa: S608


def downgrade() -> None:
    pass  # the redacted texts stay: nothing public may become unredacted again
