"""Shared fixtures: a real PostgreSQL (embedded unless VOICE_TEST_DATABASE_URL is set), the app, clients.

The database is created fresh for the test session and migrated with Alembic, so every run also
proves the migrations. Tests that do not ask for a database fixture never start one.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from voice.db import asyncpg_url, libpq_url, start_embedded_postgres
from voice.settings import PROJECT_ROOT, Settings

os.environ.setdefault("VOICE_LOG_LEVEL", "WARNING")


def _server_url() -> str:
    given = os.environ.get("VOICE_TEST_DATABASE_URL")
    if given:
        return libpq_url(asyncpg_url(given))
    return start_embedded_postgres(PROJECT_ROOT / ".data" / "test")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = re.sub(r"/[^/]*$", "/" + name, base)
    return base + ("?" + query if query else "")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A brand-new database, migrated to head; dropped at the end of the session."""
    from voice.migrate import upgrade

    server = _server_url()
    name = f"voice_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _with_database(server, "postgres")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = asyncpg_url(_with_database(server, name))
    upgrade(url, settings=test_settings(url))
    yield url
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_settings(url: str, **overrides: object) -> Settings:
    base = Settings(
        database_url=url,
        data_dir=PROJECT_ROOT / ".data" / "test",
        secret_key="test-secret-" + "x" * 32,
        secure_cookies=False,
        rate_limit_enabled=False,
        db_pool_size=5,
        db_max_overflow=5,
    )
    return replace(base, **overrides)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[object]:
    eng = create_async_engine(database_url, poolclass=NullPool)
    yield eng
    await eng.dispose()


async def _truncate(engine: object) -> None:
    async with engine.begin() as conn:  # type: ignore[attr-defined]
        from sqlalchemy import text

        tables = (await conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ))).scalars().all()
        if tables:
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(engine: object) -> AsyncIterator[AsyncSession]:
    """A session on a clean database (every table emptied before the test)."""
    await _truncate(engine)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:  # type: ignore[arg-type]
        yield session


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[object]:
    from voice.app import create_app

    application = create_app(test_settings(database_url))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: object, db: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous browser-like client (keeps cookies) on a clean database."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False) as c:
        yield c


async def csrf_token(client: httpx.AsyncClient, path: str = "/") -> str:
    """Visit a page so the CSRF cookie is set, and return the token forms must echo."""
    if "voice_csrf" not in client.cookies:
        await client.get(path)
    return client.cookies["voice_csrf"]


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(path, data={**data, "_csrf_token": token}, **kwargs)  # type: ignore[arg-type]


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.sa"


FIXTURES = Path(__file__).parent / "fixtures"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """A real SMTP server on a loopback port (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes, policy

                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> int:
        self.controller.start()
        return self.port

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(mail_sink: MailSink) -> MailSink:
    mail_sink.messages.clear()
    return mail_sink


@pytest.fixture
def run_jobs(database_url: str, mail_sink: MailSink):
    """Drain the job queue once with a real procrastinate worker, e-mailing through the sink."""
    from voice.worker import run_worker

    async def drain() -> None:
        settings = test_settings(database_url, smtp_host="127.0.0.1", smtp_port=mail_sink.port)
        await run_worker(settings, wait=False, url=database_url)

    return drain
