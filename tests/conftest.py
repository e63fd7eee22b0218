"""Shared fixtures: a real PostgreSQL (embedded unless VOICE_TEST_DATABASE_URL is set), the app, clients.

The database is created fresh for the test session and migrated with Alembic, so every run also
proves the migrations. Tests that do not ask for a database fixture never start one.
"""

from __future__ import annotations

import sys
from pathlib import Path

# With PYTHONDONTWRITEBYTECODE set (as in some shells and containers) nothing compiled is kept, so every
# run re-parsed the test modules to rewrite their asserts and compiled the project's modules again: about
# 4 s of CPU at the start of each test process. Here the compiled files go to .data/pycache instead, out
# of the source tree the setting keeps clean. (The first such run compiles the libraries it imports from
# then on into it too, once.) Set before the imports below so they use it.
if sys.dont_write_bytecode:
    sys.pycache_prefix = str(Path(__file__).resolve().parents[1] / ".data" / "pycache")
    sys.dont_write_bytecode = False

import asyncio
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from graphlib import TopologicalSorter

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from voice.db import asyncpg_url, libpq_url, start_embedded_postgres
from voice.settings import PROJECT_ROOT, Settings

os.environ.setdefault("VOICE_LOG_LEVEL", "WARNING")
# One BLAS thread in the servers and commands the tests start (see single_blas_thread).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


# Tests that take seconds (measured with --durations), in files whose other changes belong to other
# branches of issue 19: marked here so those files stay as they are; "*" is every test of the file.
# A name is a test function, or one case of it with its parameters ("test_x[a]"). Every function named
# must exist, so a renamed test is noticed rather than silently run in the fast loop.
SLOW_ELSEWHERE: dict[str, set[str]] = {
    "tests/test_workspace.py": {  # theme refresh jobs: clustering a demo agency's feedback
        "test_theme_refresh_runs_as_a_job_with_progress", "test_staff_edits_survive_a_rerun",
        "test_staff_split_a_theme_and_the_split_survives_a_rerun", "test_bulk_answer_reaches_every_item_and_mailbox",
        "test_agency_api", "test_new_feedback_joins_its_theme_shortly_after_arrival",
        "test_scheduled_refresh_covers_agencies_with_new_feedback"},
    # Theme refresh jobs on hundreds of texts (8-10 s of CPU each): the same kind as test_workspace's above.
    "tests/test_theme_jobs.py": {"test_a_refresh_adds_few_new_items_and_refits_when_many_arrived",
                                 "test_assignment_takes_each_waiting_item_once"},
    "tests/test_theme_groups.py": {"test_a_refresh_stores_two_levels_shown_as_at_most_15_cards_and_names_survive"},
    "tests/test_ideas.py": {"test_demo_ideas_load", "test_ideas_are_clustered_into_themes_and_new_ones_join_them"},
    "tests/test_awards.py": {"test_demo_loads_a_published_and_a_judging_edition"},
    "tests/nlp/test_cli.py": {"*"},  # the nlp command in a fresh interpreter each time
    # Sentence embeddings: loading the encoder and encoding.
    "tests/nlp/test_similarity.py": {"test_paraphrase_ranks_above_unrelated[hybrid]",
                                     "test_paraphrase_ranks_above_unrelated[semantic]"},
    "tests/nlp/test_vectorize.py": {"test_hybrid_and_semantic_vectors_are_unit_length"},
}


@pytest.hookimpl(tryfirst=True)  # before -m selects on the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    checked: set[str] = set()
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        names = SLOW_ELSEWHERE.get(path)
        if names is None:
            continue
        if path not in checked:
            checked.add(path)
            functions = {n.partition("[")[0] for n in names - {"*"}}
            missing = sorted(n for n in functions if not hasattr(item.module, n))  # type: ignore[attr-defined]
            if missing:
                raise pytest.UsageError(f"SLOW_ELSEWHERE in tests/conftest.py names tests {path} lacks: {missing}")
        if "*" in names or item.name in names or getattr(item, "originalname", item.name) in names:
            item.add_marker(pytest.mark.slow)


# The shared app signs staff in with a password alone, so the other slices' tests need no authenticator;
# tests/test_sign_in.py and the administration browser test run apps that require the second factor.
os.environ.setdefault("VOICE_REQUIRE_TWO_FACTOR", "off")
# The pytest-xdist worker this process is ("gw0", "gw1", …), or "main" when the tests run in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Files the shared app stores (voice.attachments) go beside the test database, not the development data;
# one folder per xdist worker, since some tests compare the whole folder before and after a refused upload.
os.environ.setdefault("VOICE_ATTACHMENTS_DIR", str(PROJECT_ROOT / ".data" / "test" / "attachments" / WORKER))


def _server_url() -> str:
    given = os.environ.get("VOICE_TEST_DATABASE_URL")
    if given:
        return libpq_url(asyncpg_url(given))
    return start_embedded_postgres(PROJECT_ROOT / ".data" / "test")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = re.sub(r"/[^/]*$", "/" + name, base)
    return base + ("?" + query if query else "")


def _on_server(sql: str) -> None:
    """One statement on the test server's maintenance database (CREATE/ALTER/DROP DATABASE)."""
    async def run() -> None:
        conn = await asyncpg.connect(_with_database(_server_url(), "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A brand-new database, migrated to head; dropped at the end of the session."""
    from voice.migrate import upgrade

    name = f"voice_test_{os.getpid()}_{secrets.token_hex(3)}"
    _on_server(f'CREATE DATABASE "{name}"')
    # A throw-away database need not wait for each commit to reach the disk (a crash loses it anyway):
    # the tests commit thousands of times, and on a busy disk every wait was milliseconds.
    _on_server(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = asyncpg_url(_with_database(_server_url(), name))
    upgrade(url, settings=test_settings(url))
    yield url
    _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def single_blas_thread() -> Iterator[None]:
    """One BLAS thread: the tests' matrices are small, the nlp library already splits its work over its
    own thread pool, and OpenBLAS's threads spinning beside those made the numeric tests 1.5x slower on
    two cores (far more on a busy machine). Results do not depend on it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Passwords hashed with argon2id at its lowest cost in the test process, as Django's test settings do.

    At the production profile (64 MiB, three passes) every made user and every sign-in cost 0.1-0.7 s,
    a third of some tests. Hashes stay argon2id and are really verified; the live servers the browser
    and fuzz tests start keep the production profile.
    """
    from argon2 import PasswordHasher

    from voice.accounts import security

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", cheap)
        patch.setattr(security, "_DUMMY_HASH", cheap.hash("not anybody's password"))
        yield


# What a Prometheus scraper sends to read /metrics (VOICE_METRICS_TOKEN).
METRICS_TOKEN = "test-metrics-token-" + "m" * 24
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_settings(url: str, **overrides: object) -> Settings:
    base = Settings(
        database_url=url,
        data_dir=PROJECT_ROOT / ".data" / "test",
        secret_key="test-secret-" + "x" * 32,
        secure_cookies=False,
        rate_limit_enabled=False,
        db_pool_size=5,
        db_max_overflow=5,
        metrics_token=METRICS_TOKEN,
    )
    return replace(base, **overrides)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(database_url, poolclass=NullPool)
    yield eng
    await eng.dispose()


# The statement that empties the tables, per (engine, prefix of the tables it keeps): built once per
# session from the catalog, since the schema does not change while the tests run.
_EMPTYING: dict[tuple[int, str], str] = {}


async def empty_tables(engine: AsyncEngine, keep: str = "") -> None:
    """Empty every table but Alembic's stamp (and those whose name starts with ``keep``), and restart
    their ids, as ``TRUNCATE … RESTART IDENTITY`` would.

    TRUNCATE gives every table and index a new file, which cost 0.3-1.5 s per test on this machine
    however few rows the test wrote. Instead one server-side block deletes from the tables that have
    rows, children before parents, and restarts the sequences that were used: tens of milliseconds.
    Nothing is remembered between tests: every table is looked at every time.
    """
    key = (id(engine), keep)
    async with engine.begin() as conn:
        if key not in _EMPTYING:
            _EMPTYING[key] = await _emptying_statement(conn, keep)
        await conn.execute(text(_EMPTYING[key]))


async def _emptying_statement(conn: AsyncConnection, keep: str) -> str:
    tables = set((await conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    ))).scalars())
    if keep:
        tables = {t for t in tables if not t.startswith(keep)}
    # Children first, so no foreign key is ever left pointing at a deleted row (self-references are
    # fine: a whole table goes in one statement).
    parents = (await conn.execute(text(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"))).all()
    children_of: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in parents:
        if child != parent and child in tables and parent in tables:
            children_of[parent].add(child)
    order = list(TopologicalSorter(children_of).static_order())  # a table after all its children
    sequences = (await conn.execute(text(
        "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace AND t.relname = ANY(:tables)"),
        {"tables": sorted(tables)})).scalars().all()
    # The names come from the catalog, not from any input.
    deletes = "\n".join(f'  IF EXISTS (SELECT FROM "{t}") THEN DELETE FROM "{t}"; END IF;' for t in order)  # noqa: S608
    names = ", ".join(f"'{s}'" for s in sorted(sequences)) or "NULL"
    return f"""DO $$
DECLARE used record;
BEGIN
{deletes}
  FOR used IN SELECT sequencename, start_value FROM pg_sequences
              WHERE schemaname = 'public' AND last_value IS NOT NULL AND sequencename IN ({names}) LOOP
    PERFORM setval(quote_ident(used.sequencename), used.start_value, false);
  END LOOP;
END $$"""  # noqa: S608


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on a clean database (every table emptied before the test)."""
    await empty_tables(engine)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
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
