"""Top-level themes: theme_group (at most 15 per run plus the "other" bucket) and each theme's group

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('theme_group',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('keywords', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('renamed', sa.Boolean(), nullable=False),
    sa.Column('other', sa.Boolean(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_theme_group_agency_id_agency'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_group')),
    sa.UniqueConstraint('agency_id', 'scope', 'key', name='uq_theme_group_agency_scope_key'),
    )
    op.create_index(op.f('ix_theme_group_agency_id'), 'theme_group', ['agency_id'], unique=False)
    op.add_column('theme', sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                     nullable=True))
    # Themes stored before this revision have no group: each shows as its own top-level theme until the
    # next refresh groups them.
    op.add_column('theme', sa.Column('other', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.alter_column('theme', 'other', server_default=None)
    op.create_index(op.f('ix_theme_group_id'), 'theme', ['group_id'], unique=False)
    op.create_foreign_key(op.f('fk_theme_group_id_theme_group'), 'theme', 'theme_group', ['group_id'], ['id'],
                          ondelete='SET NULL')


def downgrade() -> None:
    op.drop_constraint(op.f('fk_theme_group_id_theme_group'), 'theme', type_='foreignkey')
    op.drop_index(op.f('ix_theme_group_id'), table_name='theme')
    op.drop_column('theme', 'other')
    op.drop_column('theme', 'group_id')
    op.drop_index(op.f('ix_theme_group_agency_id'), table_name='theme_group')
    op.drop_table('theme_group')
