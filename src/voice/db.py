"""Database wiring: where PostgreSQL is (configured or embedded), the model base, and migrations."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from advanced_alchemy.base import BigIntAuditBase, orm_registry
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import String, Text, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

from voice.text import public_value, search_text

if TYPE_CHECKING:
    from voice.settings import Settings

log = logging.getLogger(__name__)

# Every model of the application derives from advanced-alchemy's bases, which share this metadata;
# Alembic compares it with the database.
metadata = orm_registry.metadata
Base = BigIntAuditBase

ModelT = TypeVar("ModelT", bound=Base)


class PublicText(TypeDecorator[str]):
    """The type of every column the public may read (board, tracking page, ideas, comments, "you said, we
    did", results, Open311, the public API and search): whatever is written is stored redacted.

    Redaction (``voice.text.public_text`` → ``nlp.redact``) happens twice, in one place: when a mapped
    attribute of this type is set (so the object in memory, rendered in the same request, already holds
    the public form) and when a value is bound to the column (so ``insert()``/``update()`` statements and
    typed parameters of raw SQL cannot skip it). The second pass costs a set lookup. A text that is not of
    this type is private by definition; ``tests/test_public_text.py`` makes every text column declare
    which it is, so a new field cannot reach a page unredacted by being forgotten.
    """

    impl = Text
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length

    def load_dialect_impl(self, dialect: Any) -> Any:
        return String(self.length) if self.length else Text()

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else public_value(value, self.length)


class PublicSearchText(TypeDecorator[str]):
    """The column public search runs on: assign the public text; what is stored is the search terms of its
    redacted form (``search_text(public_text(value))``), so a value that was redacted in any written form
    cannot be found by any form of it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else search_text(public_value(value))


def _redact_on_set(length: int | None) -> Any:
    def redact(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
        return public_value(value, length) if isinstance(value, str) else value
    return redact


@event.listens_for(Mapper, "mapper_configured")
def _public_columns_redact_when_set(mapper: Mapper, cls: type) -> None:
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if isinstance(column.type, PublicText) and prop.parent is mapper:
            event.listen(prop.class_attribute, "set", _redact_on_set(column.type.length), retval=True)


class DomainService(SQLAlchemyAsyncRepositoryService[ModelT]):
    """The one way a slice's service is built: advanced-alchemy's service (its repository is a nested
    ``Repo`` class, it is injected with ``create_service_provider``, and the CLI and tests construct it
    with ``session=``), with the session at hand for the queries beyond CRUD that domain rules need."""

    @property
    def session(self) -> AsyncSession:
        return self.repository.session


_embedded_lock = threading.Lock()
_embedded_server: Any = None


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or attach to) the PostgreSQL server kept in ``data_dir/pg`` and return its URL.

    pgserver ships the server binaries in its wheel, so a fresh laptop needs nothing else. The
    server is shared by every process of this checkout and stopped when the last one exits.
    """
    global _embedded_server
    with _embedded_lock:
        if _embedded_server is None:
            import warnings

            # pgserver keeps its lock file in the user's runtime dir; a fallback to /tmp is fine.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import pgserver

            pgdata = data_dir / "pg"
            pgdata.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL in %s", pgdata)
            _embedded_server = pgserver.get_server(pgdata, cleanup_mode="stop")
        return _embedded_server.get_uri()


def stop_embedded_postgres() -> None:
    """Release this process's handle; the server stops when no process of this checkout uses it."""
    global _embedded_server
    with _embedded_lock:
        if _embedded_server is not None:
            _forget_dead_handles(_embedded_server)
            _embedded_server.cleanup()
            _embedded_server = None


def _forget_dead_handles(server: Any) -> None:
    """pgserver counts the processes using the server in a file; one killed with SIGKILL stays
    listed forever and the server would never be stopped. Drop the pids that no longer run."""
    try:
        import psutil

        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])
    except Exception:  # best effort: at worst the server keeps running, as before
        log.debug("could not prune embedded PostgreSQL handles", exc_info=True)


def asyncpg_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and return the asyncpg dialect form."""
    scheme, _, rest = url.partition("://")
    if scheme in {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}:
        return f"postgresql+asyncpg://{rest}"
    if scheme == "postgresql+asyncpg":
        return url
    msg = f"DATABASE_URL must be a PostgreSQL URL, got scheme {scheme!r}"
    raise ValueError(msg)


def resolve_database_url(settings: Settings) -> str:
    """The asyncpg URL the app uses: DATABASE_URL when set, else the embedded server."""
    raw = settings.database_url or start_embedded_postgres(settings.data_dir)
    return asyncpg_url(raw)


def libpq_url(url: str) -> str:
    """The plain ``postgresql://`` form, for tools that speak libpq (pg_dump, psql, procrastinate)."""
    return "postgresql://" + url.partition("://")[2]


def describe(url: str) -> str:
    """A URL fit for logs: no password."""
    parts = urlsplit(url)
    host = parts.hostname or parts.query
    return f"{parts.scheme}://{parts.username or ''}@{host}{parts.path}"


def sqlalchemy_config(settings: Settings, url: str | None = None) -> SQLAlchemyAsyncConfig:
    """The app's engine and session settings. How a request's transaction ends is the web layer's
    business: the app factory sets the config's ``before_send_handler``."""
    url = url or resolve_database_url(settings)
    config = SQLAlchemyAsyncConfig(
        connection_string=url,
        metadata=metadata,
        create_all=False,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_recycle=1800,
        ),
        create_engine_callable=_engine_pinging_idle_connections,
    )
    return config


# A connection back in the pool for less than this is trusted without a ping.
PING_IF_IDLE_SECONDS = 1.0


def _engine_pinging_idle_connections(url: str, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(url, **kwargs)
    ping_idle_connections(engine)
    return engine


def ping_idle_connections(engine: AsyncEngine, idle_seconds: float = PING_IF_IDLE_SECONDS) -> None:
    """Test a pooled connection before use only when it has been idle, and replace it if it is dead.

    ``pool_pre_ping`` tests every checkout with BEGIN + ROLLBACK: two extra round trips that took about
    a fifth of the web process's CPU per feedback submission under load (docs/benchmarks.md). A
    connection that served a request within the last second is as alive as a ping would show. One
    that dies while busy (PostgreSQL restarted under load) fails that one request with a 503, and
    SQLAlchemy, seeing a disconnect, invalidates every connection of the pool opened before it, so
    the others reconnect on their next checkout instead of failing one request each.
    """
    sync = engine.sync_engine

    @event.listens_for(sync, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["voice_idle_since"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("voice_idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # fresh from connect(), or just used
        try:
            sync.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError from exc
