"""text embeddings stored once per text and encoder (pgvector where available, real[] elsewhere);
muting a theme's emerging flag

Revision ID: 0011
Revises: 0014
Create Date: 2026-11-27 22:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Approximate nearest-neighbour indexes: one per kind of text and encoder (dimension fixed per encoder).
HNSW = [(kind, encoder, dim) for kind in ("feedback", "ideas") for encoder, dim in (("e5", 384), ("use", 512))]


def upgrade() -> None:
    op.add_column('theme', sa.Column('emerging_muted_until', sa.Date(), nullable=True))
    bind = op.get_bind()
    pgvector = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar() == 1
    if pgvector:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table('text_embedding',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text_id', sa.BigInteger(), nullable=False),
    sa.Column('encoder', sa.String(length=32), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_embedding')),
    sa.UniqueConstraint('kind', 'text_id', 'encoder', name='uq_text_embedding')
    )
    op.execute(f"ALTER TABLE text_embedding ADD COLUMN embedding {'vector' if pgvector else 'real[]'} NOT NULL")
    if pgvector:
        for kind, encoder, dim in HNSW:
            op.execute(f"CREATE INDEX ix_text_embedding_hnsw_{kind}_{encoder} ON text_embedding "
                       f"USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
                       f"WHERE kind = '{kind}' AND encoder = '{encoder}'")


def downgrade() -> None:
    op.drop_table('text_embedding')
    op.drop_column('theme', 'emerging_muted_until')
