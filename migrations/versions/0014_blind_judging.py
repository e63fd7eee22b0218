"""blind judging: ideas' public attribution withheld while a blind branch judges them, a minimum number of
judges per edition before an entry is ranked (unranked results keep no rank), and evidence dossiers frozen
when judging opens

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-27 21:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('idea', sa.Column('attribution_withheld', sa.Boolean(), server_default=sa.text('false'),
                                    nullable=False))
    op.add_column('award_edition', sa.Column('min_judges', sa.SmallInteger(), server_default='3', nullable=False))
    op.create_check_constraint(op.f('ck_award_edition_min_judges_range'), 'award_edition',
                               'min_judges BETWEEN 1 AND 50')
    op.alter_column('award_result', 'rank', existing_type=sa.Integer(), nullable=True)
    op.create_table(
        'award_dossier_snapshot',
        sa.Column('id', _ID, nullable=False),
        sa.Column('edition_id', _ID, nullable=False),
        sa.Column('agency_id', _ID, nullable=False),
        sa.Column('taken_at', _TS, nullable=False),
        sa.Column('dossier', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('records', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('updated_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_award_dossier_snapshot_agency_id_agency'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['edition_id'], ['award_edition.id'],
                                name=op.f('fk_award_dossier_snapshot_edition_id_award_edition'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_award_dossier_snapshot')),
        sa.UniqueConstraint('edition_id', 'agency_id', name='uq_award_dossier_snapshot_edition_agency'))
    op.create_index(op.f('ix_award_dossier_snapshot_agency_id'), 'award_dossier_snapshot', ['agency_id'],
                    unique=False)
    op.create_index(op.f('ix_award_dossier_snapshot_edition_id'), 'award_dossier_snapshot', ['edition_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_award_dossier_snapshot_edition_id'), table_name='award_dossier_snapshot')
    op.drop_index(op.f('ix_award_dossier_snapshot_agency_id'), table_name='award_dossier_snapshot')
    op.drop_table('award_dossier_snapshot')
    op.execute('DELETE FROM award_result WHERE rank IS NULL')
    op.alter_column('award_result', 'rank', existing_type=sa.Integer(), nullable=False)
    op.drop_constraint(op.f('ck_award_edition_min_judges_range'), 'award_edition', type_='check')
    op.drop_column('award_edition', 'min_judges')
    op.drop_column('idea', 'attribution_withheld')
