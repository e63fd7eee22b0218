"""Alembic environment: one history for the whole schema, run on asyncpg like the app."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config

import voice.models  # noqa: F401  (registers every table on the metadata)
from voice.db import metadata

config = context.config
target_metadata = metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # Tables owned by other tools (the job queue's schema) are not ours to diff.
    if type_ == "table" and reflected and compare_to is None and name.startswith("procrastinate"):
        return False
    # The vector column's type depends on the server (pgvector's vector, or real[]): see TextEmbedding.
    if type_ == "column" and reflected and compare_to is None and name == "embedding" \
            and obj.table.name == "text_embedding":
        return False
    if type_ == "index" and reflected and compare_to is None and name.startswith("ix_text_embedding_hnsw_"):
        return False
    return True


def _configure(connection=None, **kwargs) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
        render_as_batch=False,
        **kwargs,
    )


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:  # noqa: ANN001
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
