"""What /metrics adds to Litestar's request metrics: the job queue and the database pool (the feedback
intake counts its statements and rows itself, in voice.feedback.intake.queue).

Job counts come from PostgreSQL at scrape time (one grouped query), so every web process reports the
same numbers; the intake and pool figures are the scraped process's own. With several processes per
host, scrape each one or set PROMETHEUS_MULTIPROC_DIR (the gauges are declared for both modes).
"""

from __future__ import annotations

import hmac
import os

from litestar import Request, get
from litestar.datastructures import State
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy import text

from voice.errors import NotFound
from voice.i18n import _

JOBS = Gauge("voice_jobs", "Background jobs waiting, running or failed, by queue and status",
             ["queue", "status"], multiprocess_mode="mostrecent")
OLDEST_WAITING = Gauge("voice_jobs_oldest_waiting_seconds",
                       "Age of the oldest job waiting to run (since it was queued or due), by queue",
                       ["queue"], multiprocess_mode="mostrecent")
POOL_IN_USE = Gauge("voice_db_pool_in_use", "Database connections checked out of this process's pool",
                    multiprocess_mode="livesum")
POOL_SIZE = Gauge("voice_db_pool_size", "Connections this process's pool keeps", multiprocess_mode="livesum")

_JOB_COUNTS = text("""
    SELECT j.queue_name, CAST(j.status AS text) AS status, count(*) AS jobs,
           max(extract(epoch FROM now() - COALESCE(j.scheduled_at, d.at))) FILTER (WHERE j.status = 'todo')
               AS oldest_seconds
    FROM procrastinate_jobs j
    LEFT JOIN LATERAL (SELECT min(e.at) AS at FROM procrastinate_events e
                       WHERE e.job_id = j.id AND e.type = 'deferred') d ON true
    WHERE j.status IN ('todo', 'doing', 'failed')
    GROUP BY 1, 2
""")
_STATUSES = ("todo", "doing", "failed")
_queues_seen: set[str] = set()


async def refresh(state: State) -> None:
    engine = state.db_config.get_engine()
    async with engine.connect() as connection:
        rows = (await connection.execute(_JOB_COUNTS)).all()
    _queues_seen.update(row.queue_name for row in rows)
    counts = {(row.queue_name, row.status): row.jobs for row in rows}
    oldest = {row.queue_name: row.oldest_seconds for row in rows if row.oldest_seconds is not None}
    for queue in _queues_seen:  # a queue that emptied reports zeros, not its last numbers
        for status in _STATUSES:
            JOBS.labels(queue, status).set(counts.get((queue, status), 0))
        OLDEST_WAITING.labels(queue).set(float(oldest.get(queue, 0)))
    pool = engine.sync_engine.pool
    POOL_IN_USE.set(pool.checkedout())
    POOL_SIZE.set(pool.size())


def scraper_may_read(request: Request, token: str | None) -> bool:
    """Whether the request carries the configured metrics token (compared in constant time)."""
    if not token:
        return False
    scheme, _sep, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, with the gauges above brought up to date first. Only a scraper with
    the metrics token reads it; anybody else gets the same 404 as for a page that does not exist."""

    @get(include_in_schema=False)
    async def get(self, state: State, request: Request) -> Response:
        if not scraper_may_read(request, state.settings.metrics_token):
            raise NotFound(_("We could not find this page."))
        await refresh(state)
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ:
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
