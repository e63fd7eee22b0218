"""`voice run` keeps jobs out of the web processes and stops promptly: a real `voice run` on the test
database with two web processes on one listening socket, a theme refresh running in its worker child,
SIGINT; every process is gone within the bound, the refresh is back in the queue, and the next worker
completes it exactly once. Killed outright (SIGKILL), it leaves no process behind either."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import _free_port
from tests.factories import make_agency
from voice.db import libpq_url
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.jobs import defer
from voice.settings import PROJECT_ROOT
from voice.themes.models import ThemeModel, ThemeRun
from voice.themes.services import refresh_themes_job, request_refresh

pytestmark = pytest.mark.slow

# What the issue asks of Ctrl-C on `voice run`: web, worker (and embedded PostgreSQL) gone within 5 s.
STOP_WITHIN_SECONDS = 5

BODIES = ["رمز التحقق لا يصل إلى الجوال", "ما وصلني كود التحقق", "رسالة التحقق تتأخر كثيرا",
          "الموقع بطيء جدا عند الدفع", "صفحة الدفع تعلق", "الدفع الإلكتروني لا يكتمل",
          "موعد الجوازات غير متاح", "لا توجد مواعيد متاحة هذا الشهر", "حجز الموعد صعب"]


async def _wait_for(probe, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def _autogroup(pid: int) -> int | None:
    """The nice value of the process's autogroup ("/autogroup-<n> nice <v>"), None without autogroup."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return int(f.read().split()[-1])
    except OSError:
        return None


async def _job_status(conn: asyncpg.Connection, job_id: int) -> str:
    return await conn.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job_id)


@pytest.mark.parametrize("web_processes", [2, 1])  # several (the default on 2+ cores), one (on one core)
async def test_ctrl_c_on_voice_run_stops_everything_and_the_refresh_resumes_once(
        database_url: str, db: AsyncSession, run_jobs, web_processes: int) -> None:
    agency = await make_agency(db, "passports")
    intake = IntakeService(db)
    for n in range(3):
        for body in BODIES:
            await intake.submit(Submission(agency="passports", body=f"{body} {n}", publish=True))
    run = await request_refresh(db, agency.id, None)
    await db.commit()
    run_id = run.id

    # The refresh will be mid-way when the signal comes: this transaction holds its run's row, so the job
    # blocks at its first write (as a long fit would keep it busy) until the lock is released.
    holder = await asyncpg.connect(libpq_url(database_url))
    watcher = await asyncpg.connect(libpq_url(database_url))
    holder_tx = holder.transaction()
    await holder_tx.start()
    await holder.execute("SELECT 1 FROM theme_run WHERE id = $1 FOR UPDATE", run_id)
    job_id = await watcher.fetchval("SELECT id FROM procrastinate_jobs WHERE task_name = 'voice.refresh_themes'")

    port = _free_port()
    proc = await _voice_run(database_url, port, web_processes)
    try:
        await _wait_for(lambda: _blocked(watcher, job_id), "the refresh to be running in the worker")
        # The web processes answer while the job runs (they may still be importing the app when the worker
        # has started it), and they run no worker of their own.
        await _wait_for(lambda: _healthy(port), "the web processes to answer")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert [c for c in children if "worker" in c.cmdline()], "the worker runs as a child process"
        worker = next(c for c in children if "worker" in c.cmdline())
        assert worker.nice() > psutil.Process(proc.pid).nice(), "the worker runs at a lower CPU priority"
        assert {psutil.Process(t.id).nice() for t in worker.threads()} == {worker.nice()}, "every thread of it"
        group = _autogroup(worker.pid)  # and its session's scheduling group, where Linux has them
        assert group is None or group == worker.nice()
        # The web processes (uvicorn's, spawned by multiprocessing; or `voice run` itself when it serves
        # alone), each listening on the one socket `voice run` bound, at the web's CPU priority.
        web = _web_processes(children) if web_processes > 1 else [psutil.Process(proc.pid)]
        assert len(web) == web_processes, [c.cmdline() for c in children]
        assert web_processes > 1 or not _web_processes(children)
        for process in web:
            assert process.nice() == psutil.Process(proc.pid).nice()
            assert [c for c in process.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
        assert await watcher.fetchval("SELECT count(*) FROM procrastinate_workers") == 1

        proc.send_signal(signal.SIGINT)
        stop_by = time.monotonic() + STOP_WITHIN_SECONDS
        await asyncio.wait_for(proc.wait(), STOP_WITHIN_SECONDS)  # TimeoutError fails the test
        # multiprocessing's resource tracker leaves when the last process holding its pipe has gone.
        await _wait_for(lambda: _none_running(children), "every child of voice run to stop",
                        max(0.0, stop_by - time.monotonic()))
    finally:
        if proc.returncode is None:
            proc.kill()
        output = (await proc.communicate())[0].decode(errors="replace")
    assert proc.returncode == 0, output

    # The cancelled refresh is back in the queue, due now; nothing of it was committed.
    assert await _job_status(watcher, job_id) == "todo", output
    assert await watcher.fetchval("SELECT count(*) FROM theme_model") == 0
    await holder_tx.rollback()
    await holder.close()
    await watcher.close()

    await run_jobs()  # the next worker
    db.expire_all()
    finished = await db.get(ThemeRun, run_id)
    assert finished.status == "succeeded"
    assert await db.scalar(select(func.count()).select_from(ThemeModel)) == 1
    assert (await db.execute(text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"),
                             {"id": job_id})).scalar() == "succeeded"

    # Delivered again (a retry after a lost acknowledgement): it sees its work done and changes nothing.
    await defer(db, refresh_themes_job, run_id=run_id)
    await db.commit()
    await run_jobs()
    assert await db.scalar(select(func.count()).select_from(ThemeModel)) == 1


async def _voice_run(database_url: str, port: int, web_processes: int = 2) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": database_url, "VOICE_DATA_DIR": str(PROJECT_ROOT / ".data" / "test"),
           "SECRET_KEY": "worker-test-secret-" + "z" * 32, "VOICE_LOG_LEVEL": "INFO",
           "VOICE_RATE_LIMIT": "off"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voice.cli", "run", "--no-demo", "--port", str(port), "--workers", str(web_processes),
        cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


def _web_processes(children: list[psutil.Process]) -> list[psutil.Process]:
    return [c for c in children if any("spawn_main" in part for part in c.cmdline())]


async def _healthy(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as web:
            return (await web.get(f"http://127.0.0.1:{port}/health", timeout=10)).status_code == 200
    except httpx.TransportError:  # the socket is bound; it listens once a web process has started
        return False


def _running(processes: list[psutil.Process]) -> list[int]:
    running = []
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            if p.status() != psutil.STATUS_ZOMBIE:
                running.append(p.pid)
    return running


async def test_voice_run_killed_outright_leaves_no_process_behind(database_url: str, db: AsyncSession) -> None:
    """SIGKILL gives `voice run` no chance to stop its children: each notices its parent is gone and stops
    (the worker as with Ctrl-C; each web process, which would otherwise keep serving on the port)."""
    port = _free_port()
    proc = await _voice_run(database_url, port)
    children: list[psutil.Process] = []
    try:
        await _wait_for(lambda: _healthy(port), "the web processes to answer")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(_web_processes(children)) == 2 and [c for c in children if "worker" in c.cmdline()]
        proc.kill()
        await proc.wait()
        # Each checks its parent every second, then stops as if asked to.
        await _wait_for(lambda: _none_running(children), "every child of the killed voice run to stop", 30)
        assert not await _healthy(port)
    finally:
        if proc.returncode is None:
            proc.kill()
        for child in children:  # none is left when the test passes; they hold the output pipe open
            with contextlib.suppress(psutil.Error):
                child.kill()
        output = (await proc.communicate())[0].decode(errors="replace")
    assert output.count("is gone; stopping") == 3, output  # the worker and both web processes


async def _none_running(processes: list[psutil.Process]) -> bool:
    return not _running(processes)


async def _blocked(conn: asyncpg.Connection, job_id: int) -> bool:
    """The job is taken and its session waits on the held row (in the middle of its work)."""
    waiting = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE theme_run%'")
    return await _job_status(conn, job_id) == "doing" and waiting == 1
