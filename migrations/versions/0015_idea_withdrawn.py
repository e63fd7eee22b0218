"""Ideas can be withdrawn by their author before review: 'withdrawn' joins the idea statuses.

Revision ID: 0015
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ['submitted', 'under_review', 'accepted_for_evaluation', 'shortlisted', 'winner', 'adopted',
             'implemented', 'declined']


def upgrade() -> None:
    op.drop_constraint(op.f('ck_idea_idea_status'), 'idea', type_='check')
    op.create_check_constraint('idea_status', 'idea', sa.column('status').in_([*_STATUSES, 'withdrawn']))


def downgrade() -> None:
    # A withdrawn idea goes back to being declined (the closest status the old schema knows).
    op.execute("UPDATE idea SET status = 'declined' WHERE status = 'withdrawn'")
    op.drop_constraint(op.f('ck_idea_idea_status'), 'idea', type_='check')
    op.create_check_constraint('idea_status', 'idea', sa.column('status').in_(_STATUSES))
