"""Running background jobs: every component's tasks on every queue, in this process.

Production runs ``voice worker`` processes; the single-machine default starts one beside the web
server. Importing the platform's components declares their tasks on the job app before it runs.
"""

from __future__ import annotations

from dataclasses import replace

from voice import platform
from voice.db import resolve_database_url
from voice.jobs import QUEUES, bind, jobs, use_settings
from voice.settings import Settings, get_settings


async def run_worker(settings: Settings | None = None, *, wait: bool = True, concurrency: int = 2,
                     url: str | None = None, own_signals: bool = False) -> None:
    """Run a worker on every queue; with ``wait=False`` it drains what is due and returns (tests)."""
    platform.load()
    settings = settings or get_settings()
    if url and not settings.database_url:
        settings = replace(settings, database_url=url)
    use_settings(settings)
    # replace_connector, not a with_connector copy: tasks (and the periodic deferrer) point back at
    # the app they were declared on, so that app itself must hold the real connector.
    with jobs.replace_connector(bind(url or resolve_database_url(settings))):
        async with jobs.open_async():
            await jobs.run_worker_async(
                # Only a standalone worker owns SIGTERM/SIGINT; inside the web process uvicorn does.
                queues=list(QUEUES), wait=wait, concurrency=concurrency, install_signal_handlers=own_signals,
                listen_notify=wait,
            )
