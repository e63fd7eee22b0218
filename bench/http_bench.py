"""Feedback submissions per second through HTTP, set against raw asyncpg inserts of the same rows.

    python bench/http_bench.py [--requests 2000] [--concurrency 1,16,64] [--workers 2]

Runs a real uvicorn server (VOICE_RATE_LIMIT=off) on loopback against a throw-away database on the
same PostgreSQL, then inserts the same rows with raw asyncpg at the same concurrency: that is the
ceiling for this machine. Prints a Markdown table (also written to bench/out/http.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid

import asyncpg
import httpx
from _server import ROOT, fresh_database, machine, percentile, running_server

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
    from voice.feedback.text import public_text, search_text

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    lines = [f"Machine: {machine()}. Server: uvicorn, {args.workers} worker processes, VOICE_RATE_LIMIT=off, "
             f"{args.requests} requests per level, each with an Idempotency-Key.", "",
             "| clients | HTTP req/s | HTTP p50 ms | HTTP p99 ms | errors | raw asyncpg rows/s | raw p50 ms | raw p99 ms | HTTP / raw |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    with fresh_database() as url:
        import subprocess
        import sys

        subprocess.run([sys.executable, "-c", "import asyncio;from voice.cli import _with_session;"
                        "from voice.demo.loader import read;from voice.catalogue.services import AgencyService\n"
                        "async def w(s):\n  [await AgencyService(session=s).upsert(a) for a in read('agencies.json')]\n"
                        "asyncio.run(_with_session(w))"], check=True, cwd=ROOT,
                       env={**__import__("os").environ, "DATABASE_URL": url, "VOICE_LOG_LEVEL": "WARNING"})
        with running_server(url, workers=args.workers) as (base, _proc):
            for level in levels:
                items = payloads(args.requests)
                asyncio.run(http_run(base, items[:50], level))  # warm-up
                elapsed, lat, errors = asyncio.run(http_run(base, items, level))
                raw_elapsed, raw_lat = asyncio.run(raw_run(url, items, level))
                http_rps, raw_rps = len(items) / elapsed, len(items) / raw_elapsed
                lines.append(f"| {level} | {http_rps:.0f} | {percentile(lat, 50):.1f} | {percentile(lat, 99):.1f} | "
                             f"{errors} | {raw_rps:.0f} | {percentile(raw_lat, 50):.2f} | {percentile(raw_lat, 99):.2f} | "
                             f"{http_rps / raw_rps:.0%} |")
                print(lines[-1], flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "http.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
