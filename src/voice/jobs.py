"""Background jobs on procrastinate, a PostgreSQL-backed queue: no extra server, workers anywhere.

Jobs are enqueued *inside the caller's database transaction* (``defer``), so a job exists exactly
when the change that asked for it was committed: an e-mail is never sent about feedback that was
rolled back, and never lost for feedback that was saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import procrastinate
from procrastinate.retry import RetryDecision, RetryStrategy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from voice.db import libpq_url, resolve_database_url
from voice.priority import backends_follow
from voice.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Tasks are declared on this app by the modules that own them (voice.notifications, voice.themes…)
# with explicit names; workers (voice.worker) bind it to the real database with ``replace_connector``.
jobs = procrastinate.App(connector=procrastinate.PsycopgConnector())

QUEUES = ("mail", "themes", "default")



class Resumable(RetryStrategy):
    """Retries like procrastinate's ``RetryStrategy``; besides, a job cancelled because its worker is
    stopping (Ctrl-C, SIGTERM, a deploy) goes straight back to the queue, due at once, whatever its
    attempts: the next worker resumes it. Every task of the platform is written so that running it
    again after an interruption never completes its work twice (each checks what is already done)."""

    def get_retry_decision(self, *, exception: BaseException, job: procrastinate.jobs.Job) -> RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return RetryDecision(retry_in=None)
        return super().get_retry_decision(exception=exception, job=job)


def resumable(max_attempts: int = 5, **waits: float) -> Resumable:
    """The retry strategy of every task: ``max_attempts`` on errors (``wait``, ``exponential_wait``…),
    and always back to the queue when a stopping worker cancels it."""
    return Resumable(max_attempts=max_attempts, **waits)


_DEFER_SQL = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock,"
    " CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


async def defer(session: AsyncSession, task: procrastinate.tasks.Task, *, queueing_lock: str | None = None,
                lock: str | None = None, priority: int = 0, **args: Any) -> None:
    """Enqueue ``task(**args)`` in the session's transaction (procrastinate's own SQL function)."""
    await session.execute(_DEFER_SQL, {
        "queue": task.queue, "task": task.name, "priority": priority, "lock": lock,
        "queueing_lock": queueing_lock, "args": json.dumps(args),
    })


@asynccontextmanager
async def open_jobs(settings: Settings | None = None, url: str | None = None) -> AsyncIterator[procrastinate.App]:
    """The job app bound to the database, for operator scripts (inspecting or retrying jobs)."""
    settings = settings or get_settings()
    with jobs.replace_connector(bind(url or resolve_database_url(settings))):
        async with jobs.open_async():
            yield jobs


# The database connections of a worker process: procrastinate's pool (psycopg_pool's default size), its
# LISTEN connection, and the engine of the tasks' sessions. `voice run` counts them against max_connections.
QUEUE_POOL_SIZE = 4
TASK_POOL_SIZE, TASK_POOL_OVERFLOW = 2, 2
WORKER_CONNECTIONS = QUEUE_POOL_SIZE + 1 + TASK_POOL_SIZE + TASK_POOL_OVERFLOW

_engines: dict[str, AsyncEngine] = {}
# The settings the running worker was started with; tasks read them instead of the environment.
_worker_settings: Settings | None = None


def current_settings() -> Settings:
    return _worker_settings or get_settings()


@asynccontextmanager
async def job_session(settings: Settings | None = None) -> AsyncIterator[AsyncSession]:
    """A database session for a job, committed when the job's work succeeds."""
    settings = settings or current_settings()
    url = resolve_database_url(settings)
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_async_engine(url, pool_size=TASK_POOL_SIZE, max_overflow=TASK_POOL_OVERFLOW,
                                                     pool_pre_ping=True)
        backends_follow(engine)  # a worker at a lower priority has its queries run at it too
    async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
        yield session


def use_settings(settings: Settings) -> None:
    """The settings tasks of this process run with (set by the worker that runs them)."""
    global _worker_settings
    _worker_settings = settings


def bind(url: str) -> procrastinate.PsycopgConnector:
    """A connector for the database at ``url`` (psycopg speaks libpq URLs, not SQLAlchemy's)."""
    return procrastinate.PsycopgConnector(conninfo=libpq_url(url), min_size=QUEUE_POOL_SIZE, max_size=QUEUE_POOL_SIZE)


@jobs.periodic(cron="* * * * *", periodic_id="retry-stalled")
@jobs.task(name="voice.retry_stalled_jobs", queue="default", queueing_lock="retry-stalled", pass_context=True)
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> int:
    """Put back in the queue the jobs of workers that stopped sending heartbeats (killed, crashed,
    machine lost): procrastinate marks such jobs stalled but leaves retrying them to the app."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        log.warning("retrying stalled job %s (%s)", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


# A worker beats every 10 s by default; a minute of silence means it is gone.
STALLED_AFTER_SECONDS = 60
