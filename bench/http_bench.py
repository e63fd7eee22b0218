"""Feedback submissions per second through HTTP, set against raw asyncpg inserts of the same rows.

    python bench/http_bench.py [--seconds 15] [--concurrency 1,16,64] [--workers 2] [--client wrk|httpx]

Runs a real uvicorn server (VOICE_RATE_LIMIT=off) on loopback against a throw-away database on the
same PostgreSQL, then inserts the same number of rows with raw asyncpg at the same concurrency: that
is the ceiling for this machine. Prints a Markdown table (also written to bench/out/http.md).

The load comes from wrk (Debian package ``wrk``; a Lua script gives every request its own
Idempotency-Key): a C client takes a few percent of a core, where an httpx client in Python took
about half of one of the two cores the server needs. ``--client httpx`` remains for machines
without wrk. After each level the rows in the database are counted against the 201s received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

import asyncpg
import httpx
from _server import ROOT, fresh_database, machine, percentile, running_server, wrk_post

DEMO = ROOT / "src" / "voice" / "demo" / "data"


def payloads(n: int) -> list[dict]:
    rows = json.loads((DEMO / "feedback.json").read_text(encoding="utf-8"))
    rng = random.Random(7)
    out = []
    for i in range(n):
        row = rng.choice(rows)
        out.append({"agency": row["agency"], "service": row.get("service"), "kind": row["kind"],
                    "submitter_kind": row["submitter_kind"], "body": f"{row['body']} ({i})",
                    "rating": row.get("rating"), "publish": bool(row.get("publish"))})
    return out


def wrk_run(base: str, items: list[dict], concurrency: int, seconds: float) -> dict:
    """wrk for ``seconds`` at ``concurrency`` connections, each sending its next request at once."""
    return wrk_post(base, items, concurrency, seconds)


async def count_rows(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM feedback WHERE channel = 'api'")
    finally:
        await conn.close()


async def http_run(base: str, items: list[dict], concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                item = queue.get_nowait()
                t = time.perf_counter()
                r = await client.post("/api/v1/feedback", json=item, headers={"Idempotency-Key": str(uuid.uuid4())})
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status_code != 201:
                    errors += 1
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies, errors


async def raw_run(url: str, items: list[dict], concurrency: int) -> tuple[float, list[float]]:
    """The same rows, inserted with the derived columns the app computes (computed up front here)."""
    from voice.text import public_text, search_text

    conn = await asyncpg.connect(url)
    agencies = {r["slug"]: r["id"] for r in await conn.fetch("SELECT id, slug FROM agency")}
    await conn.close()
    prepared = []
    for i, item in enumerate(items):
        public = public_text(item["body"])
        prepared.append((f"R{concurrency:03d}{i:08d}", agencies[item["agency"]], item["kind"], item["submitter_kind"], item["body"],
                         public, search_text(public), item["rating"], item["publish"]))
    sql = ("INSERT INTO feedback (tracking_code, agency_id, kind, submitter_kind, channel, body, body_public, "
           "search_text, rating, publish, moderation, is_public, status, supporters, due_at, language, "
           "created_at, updated_at) VALUES ($1,$2,$3,$4,'api',$5,$6,$7,$8,$9,'visible',$9,'received',0,"
           "now() + interval '5 days','ar',now(),now())")
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for row in prepared:
        queue.put_nowait(row)

    async def worker() -> None:
        while not queue.empty():
            row = queue.get_nowait()
            t = time.perf_counter()
            async with pool.acquire() as c:
                await c.execute(sql, *row)
            latencies.append((time.perf_counter() - t) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    await pool.close()
    return elapsed, latencies


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the web server's processes and by every PostgreSQL process."""
    import psutil

    def total(procs: list) -> float:
        seconds = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                seconds += times.user + times.system
        return seconds

    server = psutil.Process(server_pid)
    postgres = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
    return total([server, *server.children(recursive=True)]), total(postgres)


def _rows_check(stored: int, ok: int, clients: int) -> str:
    """Every 201 is in the database; requests still in flight when wrk stopped may add up to one per client."""
    if ok <= stored <= ok + clients:
        return "yes" if stored == ok else f"yes (+{stored - ok} in flight at the end)"
    return f"NO: {stored} rows for {ok} 201s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15, help="per level, with wrk")
    parser.add_argument("--requests", type=int, default=2000, help="per level, with httpx")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    load = (f"wrk (1 thread), {args.seconds:g} s per level" if args.client == "wrk"
            else f"httpx, {args.requests} requests per level")
    lines = [f"Machine: {machine()}. Server: uvicorn, {args.workers} worker processes, VOICE_RATE_LIMIT=off. "
             f"Load: {load}, every request with its own Idempotency-Key.", "",
             "| clients | HTTP req/s | HTTP p50 ms | HTTP p99 ms | errors | rows = 201s | CPU ms per request: web / PostgreSQL "
             "| raw asyncpg rows/s | raw p50 ms | raw p99 ms | HTTP / raw |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    with fresh_database() as url:
        subprocess.run([sys.executable, "-c", "import asyncio;from voice.cli import _with_session;"
                        "from voice.demo.loader import read;from voice.catalogue.services import AgencyService\n"
                        "async def w(s):\n  [await AgencyService(session=s).upsert(a) for a in read('agencies.json')]\n"
                        "asyncio.run(_with_session(w))"], check=True, cwd=ROOT,
                       env={**os.environ, "DATABASE_URL": url, "VOICE_LOG_LEVEL": "WARNING"})
        with running_server(url, workers=args.workers) as (base, server):
            items = payloads(5000)
            if args.client == "wrk":
                wrk_run(base, items, 4, 2)  # warm-up: connections, caches, first-request imports
            else:
                asyncio.run(http_run(base, items[:50], 4))
            for level in levels:
                before = asyncio.run(count_rows(url))
                cpu_before = cpu_seconds(server.pid)
                if args.client == "wrk":
                    res = wrk_run(base, items, level, args.seconds)
                    ok, errors = res["requests"] - res["non_2xx"], res["non_2xx"] + res["socket_errors"]
                    http_rps, p50, p99 = res["requests"] / res["seconds"], res["p50_ms"], res["p99_ms"]
                else:
                    elapsed, lat, errors = asyncio.run(http_run(base, items[:args.requests], level))
                    ok = args.requests - errors
                    http_rps, p50, p99 = args.requests / elapsed, percentile(lat, 50), percentile(lat, 99)
                web_cpu, pg_cpu = (after - start for after, start in zip(cpu_seconds(server.pid), cpu_before, strict=True))
                stored = asyncio.run(count_rows(url)) - before
                raw_items = [items[i % len(items)] for i in range(max(ok, 500))]
                raw_elapsed, raw_lat = asyncio.run(raw_run(url, raw_items, level))
                raw_rps = len(raw_items) / raw_elapsed
                lines.append(f"| {level} | {http_rps:.0f} | {p50:.1f} | {p99:.1f} | {errors} | "
                             f"{_rows_check(stored, ok, level)} | {web_cpu / max(stored, 1) * 1000:.2f} / "
                             f"{pg_cpu / max(stored, 1) * 1000:.2f} | {raw_rps:.0f} | "
                             f"{percentile(raw_lat, 50):.2f} | {percentile(raw_lat, 99):.2f} | {http_rps / raw_rps:.0%} |")
                print(lines[-1], flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "http.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
