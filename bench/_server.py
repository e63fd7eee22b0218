"""Shared helpers for the HTTP benchmarks: a throw-away database and a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from voice.db import asyncpg_url, libpq_url, start_embedded_postgres  # noqa: E402


def server_url() -> str:
    """BENCH_DATABASE_URL (a PostgreSQL server) or the embedded one in .data/bench."""
    given = os.environ.get("BENCH_DATABASE_URL")
    return libpq_url(asyncpg_url(given)) if given else start_embedded_postgres(ROOT / ".data" / "bench")


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + ("?" + query if query else "")


@contextmanager
def fresh_database():
    server = server_url()
    name = f"voice_bench_{secrets.token_hex(3)}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(with_database(server, "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    url = with_database(server, name)
    subprocess.run([sys.executable, "-m", "voice.cli", "db", "upgrade"], check=True, cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": url, "VOICE_LOG_LEVEL": "WARNING"}, capture_output=True)
    try:
        yield url
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(database_url: str, workers: int = 2, extra_env: dict | None = None, port: int | None = None,
                   new_session: bool = False, log_path: Path | None = None, command: list[str] | None = None,
                   start_timeout: float = 60):
    """uvicorn on loopback; ``new_session`` puts it in its own process group (os.killpg(proc.pid, …));
    its stderr is appended to ``log_path`` (kept) or to a temporary file. ``command`` replaces
    ``-m voice.cli`` (a script that installs something in every worker, then runs the CLI).
    ``start_timeout``: seconds to wait for /health (a loaded machine starts the workers slowly)."""
    port = port or free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "VOICE_RATE_LIMIT": "off", "VOICE_LOG_LEVEL": "WARNING",
           "VOICE_INPROCESS_WORKER": "off", "VOICE_SECURE_COOKIES": "off", "VOICE_METRICS": "off",
           "SECRET_KEY": "bench-" + "x" * 40, **(extra_env or {})}
    # stderr goes to a file, not a pipe nobody reads: a chatty server (a warning per 503 while the
    # database restarts) would otherwise fill the pipe and block.
    log = open(log_path, "ab") if log_path else tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, *(command or ["-m", "voice.cli"]), "serve", "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                            start_new_session=new_session)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + start_timeout
    while time.time() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.terminate()  # uvicorn's parent stops its workers on SIGTERM; a kill would orphan them
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.flush()
        log.seek(0)
        raise RuntimeError("server did not start: " + log.read().decode(errors="replace")[-2000:])
    try:
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} cores ({cpu}), {int(mem) // 1024 // 1024} GiB RAM, Python {sys.version.split()[0]}"
