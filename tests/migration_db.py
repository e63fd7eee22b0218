"""A database of its own, migrated to an earlier revision, for the tests of data migrations: write rows
as they were stored then, migrate to head, read what the migration made of them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from tests.conftest import _on_server, _server_url, _with_database, test_settings
from voice.db import asyncpg_url
from voice.migrate import upgrade


class OldDatabase:
    def __init__(self, name: str) -> None:
        server = _server_url()
        self.plain = _with_database(server, name)
        self.url = asyncpg_url(self.plain)

    async def _run(self, sql: str, fetch: bool) -> list:
        conn = await asyncpg.connect(self.plain)
        try:
            return await conn.fetch(sql) if fetch else [await conn.execute(sql)]
        finally:
            await conn.close()

    def execute(self, sql: str) -> None:
        asyncio.run(self._run(sql, fetch=False))

    def fetch(self, sql: str) -> list:
        return asyncio.run(self._run(sql, fetch=True))

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.url, revision, settings=test_settings(self.url))


@contextmanager
def database_at(revision: str, label: str) -> Iterator[OldDatabase]:
    """A new database migrated to ``revision``; dropped afterwards whatever happens."""
    name = f"voice_{label}_{secrets.token_hex(3)}"
    _on_server(f'CREATE DATABASE "{name}"')
    try:
        database = OldDatabase(name)
        database.upgrade(revision)
        yield database
    finally:
        _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
