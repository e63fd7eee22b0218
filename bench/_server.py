"""Shared helpers for the HTTP benchmarks: a throw-away database and a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# The servers and CLI commands a bench starts run this checkout's code and migrations too (a relative
# PYTHONPATH such as ../src means nothing from their working directory, the checkout's root, and they
# would fall back to wherever the package is installed from).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))

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
    if not wait_until_healthy(base, proc, start_timeout):
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


def wait_until_healthy(base: str, proc: subprocess.Popen, seconds: float) -> bool:
    """Poll ``base``/health until it answers 200 (True), the server exits or ``seconds`` pass (False)."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False


# wrk's Lua script for POST /api/v1/feedback: each request has its own Idempotency-Key and the next body
# of the file given; with a pause, each connection waits that many ms between its answer and its next
# request (wrk's delay()). It prints one JSON line of results.
WRK_POST = r"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local payloads, count, prefix, pause = {}, 0, "", 0
function init(args)
  for line in io.lines(args[1]) do payloads[#payloads + 1] = line end
  prefix = args[2] .. "-" .. tid .. "-"
  pause = tonumber(args[3])
end
function delay()
  return pause
end
function request()
  count = count + 1
  return wrk.format("POST", "/api/v1/feedback", {["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. count}, payloads[count % #payloads + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %f, "p99_ms": %f}\n', summary.requests, summary.duration / 1e6, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


def wrk_post(base: str, items: list[dict], connections: int, seconds: float, pause_ms: int = 0) -> dict:
    """wrk (one client thread: it needs little CPU) posting ``items`` in turn for ``seconds`` at
    ``connections``; ``pause_ms`` between a connection's answer and its next request paces the load."""
    with tempfile.TemporaryDirectory() as tmp:
        script, bodies = Path(tmp) / "post.lua", Path(tmp) / "bodies.jsonl"
        script.write_text(WRK_POST, encoding="utf-8")
        bodies.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n", encoding="utf-8")
        out = subprocess.run([shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s",
                              "--timeout", "10s", "-s", str(script), base, "--", str(bodies), uuid.uuid4().hex[:12],
                              str(pause_ms)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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
