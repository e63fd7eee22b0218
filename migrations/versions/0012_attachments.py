"""attachments: one table for files attached to feedback, award entries and consultations

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-27 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        'attachment',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('owner_kind', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.BigInteger(), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('uploaded_by_id', sa.BigInteger(), nullable=True),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('published_by_id', sa.BigInteger(), nullable=True),
        sa.Column('published_at', _TS, nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('updated_at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'],
                                name=op.f('fk_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'],
                                name=op.f('fk_attachment_published_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_attachment_storage_key')),
    )
    op.create_index('ix_attachment_owner', 'attachment', ['owner_kind', 'owner_id'])
    op.create_index(op.f('ix_attachment_uploaded_by_id'), 'attachment', ['uploaded_by_id'])


def downgrade() -> None:
    op.drop_table('attachment')
