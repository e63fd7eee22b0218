"""Database wiring: where PostgreSQL is (configured or embedded), the model base, and migrations."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from advanced_alchemy.base import BigIntAuditBase, orm_registry
from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)

if TYPE_CHECKING:
    from voice.settings import Settings

log = logging.getLogger(__name__)

# Every model of the application derives from advanced-alchemy's bases, which share this metadata;
# Alembic compares it with the database.
metadata = orm_registry.metadata
Base = BigIntAuditBase

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
    url = url or resolve_database_url(settings)
    return SQLAlchemyAsyncConfig(
        connection_string=url,
        metadata=metadata,
        create_all=False,
        # One transaction per request; a form POST answered with a redirect commits too.
        before_send_handler="autocommit_include_redirects",
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # A restarted PostgreSQL leaves dead connections in the pool; test before use so the
            # app recovers by itself instead of failing the next request on each of them.
            pool_pre_ping=True,
            pool_recycle=1800,
        ),
    )
