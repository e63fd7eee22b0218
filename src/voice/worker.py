"""Running background jobs: every component's tasks on every queue.

Production runs ``voice worker`` processes. ``voice run`` (the single-machine default) starts one as a
child process at a lower CPU priority (``WorkerProcess``), so a theme refresh or a burst of
assignments never competes with pages inside the web process. Importing the platform's components
declares their tasks on the job app before it runs.

Stopping is prompt: a stopping worker gives running jobs ``SHUTDOWN_GRACE_SECONDS`` to finish, then
cancels them, and each goes back to the queue (``voice.jobs.Resumable``) for the next worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

from voice import platform
from voice.db import resolve_database_url
from voice.jobs import QUEUES, bind, jobs, use_settings
from voice.priority import lower_priority, set_priority
from voice.settings import Settings, get_settings

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 1.0
# How much lower the CPU priority of `voice run`'s worker is than the web server's (nice(2) steps).
WORKER_NICENESS = 10
# How long `voice run`'s worker has to stop once asked (the rest of the 5 s budget stops PostgreSQL).
STOP_WITHIN_SECONDS = 3.5


async def run_worker(settings: Settings | None = None, *, wait: bool = True, concurrency: int = 2,
                     url: str | None = None, own_signals: bool = False,
                     shutdown_grace: float | None = SHUTDOWN_GRACE_SECONDS) -> None:
    """Run a worker on every queue; with ``wait=False`` it drains what is due, letting each job finish,
    and returns (tests)."""
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
                listen_notify=wait, shutdown_graceful_timeout=shutdown_grace if wait else None,
            )


def worker_main(concurrency: int, niceness: int = 0, parent: int | None = None) -> None:
    """The body of ``voice worker``: lower its CPU priority by ``niceness``, run until SIGINT/SIGTERM
    (or until the process ``parent`` is gone), then leave at once."""
    if niceness:
        lower_priority(niceness)
    # Jobs import the NLP library on first use; importing it here keeps the event loop free once jobs
    # run (an import inside a job held the loop for seconds, deaf to a stop request).
    import nlp  # noqa: F401

    async def main() -> None:
        watch = asyncio.create_task(stop_when_orphaned(parent)) if parent else None
        try:
            await run_worker(get_settings(), concurrency=concurrency, own_signals=True)
        finally:
            if watch is not None:
                watch.cancel()
        # A job cancelled on the way out may leave a thread computing (a theme fit runs off the event
        # loop); its job is already back in the queue, so the process does not wait for that thread
        # (asyncio.run would, for as long as the fit takes).
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    asyncio.run(main())


async def stop_when_orphaned(parent: int) -> None:
    """The process that started this one (`voice run`, the supervisor of several web processes) was
    killed without a chance to stop it (SIGKILL): stop as if asked to (SIGTERM)."""
    while os.getppid() == parent:  # noqa: ASYNC110 - nothing to await: the kernel re-parents us silently
        await asyncio.sleep(1)
    log.warning("the process that started this one (%s) is gone; stopping", parent)
    os.kill(os.getpid(), signal.SIGTERM)


class WorkerProcess:
    """The job worker of ``voice run``: a child process (``voice worker``) at a lower CPU priority,
    started again if it dies, stopped together with the web server."""

    RESTART_AFTER_SECONDS = 5.0

    def __init__(self, database_url: str, concurrency: int = 2, niceness: int = WORKER_NICENESS) -> None:
        self.env = {**os.environ, "DATABASE_URL": database_url}
        self.args = [sys.executable, "-m", "voice.cli", "worker", "--concurrency", str(concurrency),
                     "--nice", str(niceness), "--parent", str(os.getpid())]
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.watcher: threading.Thread | None = None
        self.stop_asked = 0.0

    def start(self) -> None:
        self._spawn()
        self.watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)
        self.watcher.start()

    def _spawn(self) -> None:
        with self.lock:
            if not self.stopping.is_set():
                # A session of its own: a Ctrl-C in the terminal reaches only `voice run`, which then
                # stops the worker exactly once (a second SIGINT would skip the worker's clean stop).
                self.proc = subprocess.Popen(self.args, env=self.env, start_new_session=True)  # noqa: S603

    def _watch(self) -> None:
        while not self.stopping.is_set():
            proc = self.proc
            if proc is None:
                return
            code = proc.wait()
            if self.stopping.wait(0 if code == 0 else self.RESTART_AFTER_SECONDS):
                return
            log.warning("the job worker exited with %s; starting it again", code)
            self._spawn()

    def signal_stop(self) -> None:
        """Ask the worker to stop (SIGTERM), without waiting: called as the web server starts stopping."""
        with self.lock:
            if self.stopping.is_set():
                return  # once: a second SIGTERM would end the worker before it puts its jobs back
            self.stopping.set()
            self.stop_asked = time.monotonic()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        # Its low priority was for sharing the CPU with pages; stopping is urgent. Raising a priority
        # again needs the privilege to (root, CAP_SYS_NICE); without it the worker stops at its pace.
        with contextlib.suppress(OSError):
            set_priority(proc.pid, os.getpriority(os.PRIO_PROCESS, 0))

    def stop(self, within: float = STOP_WITHIN_SECONDS) -> None:
        """Stop the worker: SIGTERM, then SIGKILL if it is still running ``within`` seconds after it was
        asked to. Its running jobs are back in the queue either way: cancelled ones at once, those of a
        killed worker once ``voice.retry_stalled_jobs`` finds them without a heartbeat."""
        self.signal_stop()
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.1, self.stop_asked + within - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("the job worker did not stop within %s s; killing it", within)
            self.proc.kill()
            self.proc.wait()
