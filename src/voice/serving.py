"""Serving the web app with uvicorn: one server in this process, or several web processes sharing one
listening socket (uvicorn's own supervisor). ``voice serve --workers N`` and ``voice run`` both go through
``serve``; ``voice run`` adds a hook called at the first stop signal (it stops the job worker at once) and
a bound on how long the web processes may take to stop.

A web process uses one core at most (one Python interpreter), so ``voice run`` starts
``default_web_processes`` of them unless told otherwise, no more than PostgreSQL has connections for.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from socket import socket
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger(__name__)

APP = "voice.app:create_app"
# Requests still running when `voice run` is asked to stop get this long before a web process closes.
STOP_GRACE_SECONDS = 1.5
# How long `voice run` waits for its web processes once they are asked to stop, before killing them
# (grace + the app's shutdown; the 5 s budget also stops the worker, in parallel, and PostgreSQL after).
WEB_STOP_WITHIN_SECONDS = 3.0
# Set for the web processes of a supervisor to its process id: each stops if the supervisor is killed
# (voice.app), instead of serving on unsupervised with the port and its database connections.
SUPERVISOR_ENV = "VOICE_SUPERVISOR_PID"
# Connections `voice run` leaves free for everything else on the database (psql, a backup, a CLI command).
SPARE_CONNECTIONS = 5


def serve(settings: Any, host: str | None, port: int | None, workers: int = 1, *,
          on_stop: Callable[[], None] | None = None, stop_within: float | None = None) -> None:
    """Serve until SIGINT/SIGTERM. ``on_stop`` is called at once at the first of them, while the web
    server(s) finish their last requests; ``stop_within`` bounds the grace of running requests and the
    wait for the web processes (None: as long as they take, what production's process managers expect)."""
    config = uvicorn.Config(
        APP, factory=True, host=host or settings.host, port=port or settings.port, workers=workers,
        proxy_headers=True,
        access_log=False,  # the app logs each request itself (structlog), without personal data
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=STOP_GRACE_SECONDS if stop_within else None,
    )
    if config.workers > 1:
        # Bound here, inherited by every web process: the kernel hands each connection to one of them.
        _WebProcesses(config, [config.bind_socket()], on_stop, stop_within).run()
        return
    server = _Server(config, on_stop)
    server.run()
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the app or the socket failed at start-up


class _Server(uvicorn.Server):
    """One server in this process; the first stop signal also calls ``on_stop``."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None] | None) -> None:
        super().__init__(config)
        self.on_stop = on_stop

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.on_stop is not None:
            self.on_stop()
        super().handle_exit(sig, frame)


class _WebProcesses(Multiprocess):
    """uvicorn's supervisor of web processes (it restarts one that dies or stops answering its pings),
    with the stop hook and, when ``stop_within`` is given, a bounded wait for them to stop."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket], on_stop: Callable[[], None] | None,
                 stop_within: float | None) -> None:
        super().__init__(config, sockets)
        os.environ[SUPERVISOR_ENV] = str(os.getpid())  # the web processes are spawned with this environment
        self.on_stop = on_stop
        self.stop_within = stop_within
        if on_stop is not None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._stop_signal)

    def _stop_signal(self, sig: int, frame: Any) -> None:
        # The supervisor reads its signal queue every 0.5 s; the hook (the job worker's stop) runs now.
        # Only a list append and the hook here: a signal handler must not take the locks of the loop it
        # interrupts (threading.Event.set would).
        self.on_stop()  # type: ignore[misc]
        self.signal_queue.append(sig)

    def join_all(self) -> None:
        if self.stop_within is None:
            super().join_all()
            return
        deadline = time.monotonic() + self.stop_within
        for process in self.processes:
            process.process.join(max(0.0, deadline - time.monotonic()))
            if process.process.exitcode is None:
                log.warning("web process %s did not stop within %s s; killing it", process.pid, self.stop_within)
                process.process.kill()
                process.process.join()


def cores() -> int:
    """CPU cores this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_web_processes(n_cores: int) -> int:
    """Web processes for `voice run` on a machine of ``n_cores``: one on one core; else half the cores
    and at least two, since PostgreSQL and the job worker run on the same machine (PostgreSQL spends
    about half the web's CPU per submission) and the job worker runs at a lower priority on what is left."""
    return 1 if n_cores < 2 else max(2, n_cores // 2)


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int  # the server's setting
    reserved: int  # superuser_reserved_connections
    in_use: int  # connections open now (other clients of the same server)

    def web_processes_fitting(self, per_web_process: int, per_worker: int) -> int:
        """How many web processes of ``per_web_process`` connections fit beside one job worker."""
        free = self.max_connections - self.reserved - self.in_use - SPARE_CONNECTIONS - per_worker
        return max(0, free // max(per_web_process, 1))


async def connection_budget(session: Any) -> ConnectionBudget:
    from sqlalchemy import text

    row = (await session.execute(text(
        "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())"
    ))).one()
    return ConnectionBudget(*row)


class TooManyWebProcesses(Exception):
    pass


def web_processes(asked: int | None, n_cores: int, budget: ConnectionBudget, per_web_process: int,
                  per_worker: int) -> int:
    """The number of web processes `voice run` starts: ``asked`` (--workers / WEB_CONCURRENCY) if the
    database has the connections for it, else refused; by default ``default_web_processes``, lowered
    to what the database has connections for (at least one)."""
    fitting = budget.web_processes_fitting(per_web_process, per_worker)
    if asked is not None:
        if asked < 1:
            raise TooManyWebProcesses("the number of web processes must be at least 1")
        if asked > fitting:
            raise TooManyWebProcesses(
                f"{asked} web processes of {per_web_process} database connections each and the job worker's "
                f"{per_worker} need more than PostgreSQL allows (max_connections {budget.max_connections}, "
                f"{budget.reserved} reserved, {budget.in_use} in use, {SPARE_CONNECTIONS} kept spare): "
                f"at most {fitting} fit; lower VOICE_DB_POOL_SIZE or the number of processes")
        return asked
    wanted = default_web_processes(n_cores)
    if fitting < wanted:
        log.warning("PostgreSQL has connections for %s web process(es), not %s", fitting, wanted)
    return max(1, min(wanted, fitting))
