"""feedback search index without a pending list

GIN's fast update collects new entries in a pending list that one unlucky insert (or search) later
merges into the index: under sustained submissions that merge stalled a whole intake batch for
tens of milliseconds (max latency 160 ms vs 80 ms without it, bench/http_bench.py at 64 clients),
and searches scan the list until then. Consistent latency matters more here than insert speed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER INDEX ix_feedback_search SET (fastupdate = off)")
    # Entries already waiting in the pending list go into the index now, not at some later insert.
    op.execute("SELECT gin_clean_pending_list('ix_feedback_search'::regclass)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_feedback_search RESET (fastupdate)")
