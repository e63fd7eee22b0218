"""CPU priority of the job worker: lower than the web's, for every thread of its process and for the
PostgreSQL backends doing its work on this machine, so that a refresh or a burst of assignments takes
the CPU that pages leave (``voice run`` starts its worker this way; ``voice worker --nice N`` too)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def threads_of(pid: int | None = None) -> list[int]:
    """The thread ids of process ``pid`` (this one by default); the process id alone where the system
    does not list them (not Linux)."""
    tasks = f"/proc/{pid or 'self'}/task"
    try:
        return [int(tid) for tid in os.listdir(tasks)]
    except OSError:
        return [pid or os.getpid()]


def set_priority(pid: int, niceness: int) -> None:
    """Give every thread of process ``pid`` this nice value, and its session's scheduling group too when
    the process leads a session of its own.

    Linux keeps a nice value per thread: nice(2) and setpriority(2) on a process id change its main thread
    only, and threads started before (OpenBLAS starts its pool when numpy is imported) would keep running
    the refresh's matrix products at the web's priority; threads started later inherit their creator's.
    Linux with autogroup (the default of most kernels) also shares the CPU between sessions first and
    applies nice values only inside each: `voice run`'s worker, in a session of its own so that Ctrl-C
    reaches `voice run` alone, took a third of the CPU from the web processes at nice 10
    (docs/benchmarks.md). Only that process and its children are in such a group."""
    for tid in threads_of(pid):
        with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
    with contextlib.suppress(OSError):  # gone, or a kernel without autogroup
        if os.getsid(pid) == pid:
            Path(f"/proc/{pid}/autogroup").write_text(str(niceness))


def lower_priority(steps: int) -> None:
    """Lower the CPU priority of this whole process by ``steps`` nice(2) steps (``set_priority``)."""
    set_priority(os.getpid(), min(19, os.getpriority(os.PRIO_PROCESS, 0) + steps))


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def backends_follow(engine: AsyncEngine) -> None:
    """Each new connection's PostgreSQL backend, when it runs on this machine, gets this process's nice
    value if that is lower priority than its own: the worker's queries (a refresh loads ten thousand
    vectors, an assignment burst writes thousands of rows) then yield to the web's as its Python does.
    The backend is recognized by its process id, its name and the client port it shows in its title, so
    a server elsewhere (or in a container) whose process ids mean something else here is left alone.
    Without the right to (another user's server, not root) nothing changes."""
    if own_niceness() <= 0 or not _local(engine):
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _follow(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT pg_backend_pid(), inet_client_port()")
            pid, port = cursor.fetchone()
        finally:
            cursor.close()
        if _is_backend(int(pid), port):
            try:
                if os.getpriority(os.PRIO_PROCESS, pid) < own_niceness():
                    set_priority(int(pid), own_niceness())
            except OSError as exc:  # not ours to change, or already gone
                log.debug("backend %s keeps its priority: %s", pid, exc)


def _local(engine: AsyncEngine) -> bool:
    host = engine.url.host or engine.url.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    return host is None or str(host).startswith("/") or str(host) in LOOPBACK


def _is_backend(pid: int, port: int | None) -> bool:
    """Process ``pid`` of this machine is PostgreSQL's backend of the connection with client ``port``
    (None over a Unix socket): the title PostgreSQL gives it names the client as "host(port)" or "[local]"."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    client = f"({port})" if port is not None else "[local]"
    return title.startswith("postgres:") and client in title
