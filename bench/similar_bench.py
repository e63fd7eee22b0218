"""Similar ideas over 100k ideas whose vectors are stored in PostgreSQL (pgvector HNSW on the embedded
server): latency of the service call in-process and of the endpoints over HTTP from 2 uvicorn workers,
the query plan (the HNSW index must answer), and recall@5 of the index against an exact scan.

Ideas: arbanking77 customer messages (msa_pal_train.csv) sampled and perturbed into 100k distinct
ideas (title: a message with one word dropped; description: the message, another one and an ending);
3 % hidden, 1 % merged away, so the visibility filter has work to do. Queries: half are stored ideas
reworded (a word dropped), half title and description built the same way from msa_test.csv.

Encoder: the benchmark's hashed character n-gram encoder (bench/_hashed_encoder.py, 256 dimensions,
~0.1 ms a text) for the stored vectors and the queries, installed in the uvicorn workers through
bench/_hashed_server.py, with its partial HNSW index created as migration 0011 creates e5's: it
measures everything around the encoder.

Loading 100k ideas and building the index takes about 5 minutes on the busy 2-core development
machine; with ``--keep`` the loaded database stays on the bench server (voice_similar_<n>) and later
runs only measure (about 3 minutes). ``--drop`` removes it.

``--encoder e5-static`` uses nlp's static encoder (distilled from e5) instead of the stand-in, for the
stored vectors, the queries and the server (no stand-in installed then); ``--encoder e5`` the product's
default, e5 (on ONNX Runtime when installed: about 11 ms a query; 100k ideas of three messages each
encode in 40-55 minutes on the busy 2-core machine, about 35 texts/s, so use ``--keep``). Migration 0011
already has e5's index: the bench drops it before loading and builds it again over all the rows.

Usage:  PYTHONPATH=src .venv/bin/python bench/similar_bench.py [--ideas 100000] [--queries 300] [--keep]
        [--encoder hashed|e5-static|e5]
        [BENCH_DATABASE_URL=... to use another PostgreSQL server with pgvector]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import statistics
import struct
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import _hashed_encoder
import asyncpg
import httpx
import numpy as np
from _data import ENDINGS, voice_env
from _server import ROOT, machine, percentile, running_server, server_url, with_database

DATA = Path(os.environ.get("ARBANKING_DIR", ROOT.parents[1] / "shared" / "data" / "arbanking77"))
if not DATA.exists():
    DATA = Path("/work/shared/data/arbanking77")
K = 5
ENCODER = _hashed_encoder.NAME  # --encoder: "hashed" (the stand-in) or an nlp encoder such as e5-static


def encoder():
    if ENCODER == _hashed_encoder.NAME:
        return _hashed_encoder.hashed()
    from nlp import get_encoder

    return get_encoder(ENCODER)


def index_name() -> str:
    return "ix_text_embedding_hnsw_ideas_" + ENCODER.replace("-", "_")


def messages(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(dict.fromkeys(row["text"].strip() for row in csv.DictReader(f) if row["text"].strip()))


def perturbed(rows: list[str], n: int, seed: int) -> list[tuple[str, str]]:
    """n distinct (title, description) pairs made from real messages."""
    rng = random.Random(seed)
    out: dict[tuple[str, str], None] = {}
    while len(out) < n:
        base, other = rng.choice(rows), rng.choice(rows)
        words = base.split()
        if len(words) > 3:
            del words[rng.randrange(len(words))]
        title = " ".join(words)[:200]
        description = f"{base} {other} {rng.choice(ENDINGS)}".strip()
        out[(title, description)] = None
    return list(out)


def typed(stored: list[tuple[str, str]], others: list[str], n: int) -> list[str]:
    """What people type in the panel: half of it an idea already shared, reworded (a word dropped from
    its title and from its description), half a new text (test messages, never stored)."""
    rng = random.Random(2)
    out = []
    for (title, description), (new_title, new_description) in zip(rng.sample(stored, n // 2),
                                                                  perturbed(others, n - n // 2, seed=2), strict=False):
        words = description.split()
        del words[rng.randrange(len(words))]
        out += [f"{title}\n{' '.join(words)}", f"{new_title}\n{new_description}"]
    rng.shuffle(out)
    return out


async def load_ideas(url: str, ideas: list[tuple[str, str]]) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        author = await conn.fetchval("SELECT id FROM user_account WHERE email = 'author@bench.sa'")
        rng = random.Random(1)
        public = [rng.random() >= 0.03 for _ in ideas]
        ids = await conn.fetch(
            "INSERT INTO idea (title, description, description_public, problem, problem_public, author_id, "
            "author_kind, category, status, moderation, held_for_review, is_public, votes, comments_count, "
            "search_text, language, attribution_withheld, created_at, updated_at) "
            "SELECT t, d, d, '', '', $4, 'individual', 'other', 'submitted', "
            "CASE WHEN p THEN 'visible' ELSE 'hidden' END, false, p, 0, 0, t || ' ' || d, 'ar', "
            "false, now() - (n || ' minutes')::interval, now() FROM unnest($1::text[], $2::text[], $3::bool[]) "
            "WITH ORDINALITY AS u(t, d, p, n) ORDER BY n RETURNING id, title, description",
            [t for t, _ in ideas], [d for _, d in ideas], public, author)
        by_text = {(r["title"], r["description"]): r["id"] for r in ids}
        ids = [by_text[pair] for pair in ideas]
        # 1 % merged into the idea before them (as a moderator's merge leaves them: votes moved, not listed).
        merged = [(ids[i], ids[i - 1]) for i in range(1, len(ids), 100)]
        await conn.executemany("UPDATE idea SET merged_into_id = $2 WHERE id = $1", merged)
        await conn.execute("ANALYZE idea")
        return ids
    finally:
        await conn.close()


async def load_vectors(url: str, ids: list[int], texts: list[str]) -> tuple[float, float]:
    """Store every idea's vector by COPY, then build the HNSW index; (encode s, index s)."""
    start = time.perf_counter()
    parts = []
    for i in range(0, len(texts), 5000):
        parts.append(encoder().encode(texts[i:i + 5000]))
        print(f"  {i + len(parts[-1])} vectors in {time.perf_counter() - start:.0f} s", flush=True)
    vectors = np.vstack(parts)
    dim = vectors.shape[1]
    encoded = time.perf_counter() - start
    conn = await asyncpg.connect(url)
    try:
        # Migration 0011 already made e5's and use's index: built once over all the rows below instead of
        # growing with each of them.
        await conn.execute(f"DROP INDEX IF EXISTS {index_name()}")
        await conn.set_type_codec("vector", schema="public", format="binary",
                                  encoder=lambda v: struct.pack(f">HH{dim}f", dim, 0, *v),
                                  decoder=lambda b: b)
        await conn.copy_records_to_table(
            "text_embedding", columns=["kind", "text_id", "encoder", "dim", "embedding", "created_at", "updated_at"],
            records=(("ideas", i, ENCODER, dim, v.tolist(), now, now)
                     for i, v, now in zip(ids, vectors, [_now()] * len(ids), strict=True)))
        start = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '512MB'")
        # What a migration adding this encoder would create (the same form as 0011's e5 and use indexes).
        await conn.execute(f"CREATE INDEX {index_name()} ON text_embedding USING hnsw "
                           f"((embedding::vector({dim})) vector_cosine_ops) WHERE kind = 'ideas' AND encoder = '{ENCODER}'")
        await conn.execute("ANALYZE text_embedding")
        return encoded, time.perf_counter() - start
    finally:
        await conn.close()


async def _mark_loaded(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE bench_loaded ()")
    finally:
        await conn.close()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def service_calls(url: str, queries: list[str]) -> dict:
    """IdeaService.similar in this process, one transaction per call as a request has; recall@5 of the
    HNSW answer against an exact scan; the plan of the search."""
    os.environ["VOICE_ENCODER"] = ENCODER
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    import voice.models  # noqa: F401 - every table's mapper
    from ideas.services import IdeaService
    from voice.db import asyncpg_url

    engine = create_async_engine(asyncpg_url(url), pool_size=2)
    seen: list[tuple[str, object]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def remember(conn, cursor, statement, parameters, context, executemany):
        if "<=>" in statement:
            seen.append((statement, parameters))

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    times, hits = [], []
    for q in queries[:20]:  # warm-up: connections, statement cache, the index's pages
        async with sessions() as s, s.begin():
            await IdeaService(session=s).similar(q, k=K)
    database = urlsplit(url).path.lstrip("/")
    cpu = time.process_time(), database_cpu(database)
    for q in queries:
        start = time.perf_counter()
        async with sessions() as s, s.begin():
            found = await IdeaService(session=s).similar(q, k=K)
        times.append((time.perf_counter() - start) * 1000)
        hits.append(len(found))
    python_ms = (time.process_time() - cpu[0]) * 1000 / len(queries)
    database_ms = (database_cpu(database) - cpu[1]) * 1000 / len(queries)
    statement, parameters = seen[-1]
    async with engine.begin() as conn:
        await conn.exec_driver_sql("SET LOCAL hnsw.ef_search = 100")
        plan = [r[0] for r in await conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)]
    recall = await _recall(sessions, queries[:50])
    await engine.dispose()
    return {"times": times, "hits": hits, "plan": plan, "recall": recall, "cpu": (python_ms, database_ms)}


async def _recall(sessions, queries: list[str]) -> float:
    from sqlalchemy import exists

    from ideas.models import Idea
    from voice.themes.models import TextEmbedding
    from voice.themes.vectors import nearest

    visible = exists().where(Idea.id == TextEmbedding.text_id, Idea.listed())
    vectors = encoder().encode(queries)
    found = total = 0
    for v in vectors:
        async with sessions() as s, s.begin():
            approx = {i for i, _ in await nearest(s, "ideas", ENCODER, v, K, where=[visible])}
        async with sessions() as s, s.begin():
            await (await s.connection()).exec_driver_sql("SET LOCAL enable_indexscan = off")  # scanned exactly
            exact = {i for i, _ in await nearest(s, "ideas", ENCODER, v, K, where=[visible])}
        found += len(approx & exact)
        total += len(exact)
    return found / max(total, 1)


async def http_calls(base: str, queries: list[str], concurrency: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"api": [], "panel": []}
    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        for q in queries[:20]:  # warm-up: both workers, the encoder, connections
            await client.get("/api/v1/ideas/similar", params={"q": q})
        todo = list(enumerate(queries))

        async def worker() -> None:
            while todo:
                n, q = todo.pop()
                title, _, description = q.partition("\n")
                start = time.perf_counter()
                if n % 2:
                    r = await client.get("/api/v1/ideas/similar", params={"q": q, "k": K})
                    which = "api"
                else:
                    r = await client.get("/ideas/similar-panel", params={"title": title, "description": description})
                    which = "panel"
                r.raise_for_status()
                out[which].append((time.perf_counter() - start) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


async def _admin(sql: str) -> object:
    conn = await asyncpg.connect(with_database(server_url(), "postgres"))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _loaded(url: str) -> bool:
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('bench_loaded') IS NOT NULL"))
    finally:
        await conn.close()


@contextmanager
def bench_database(n: int, keep: bool):
    """(url, whether the ideas still have to be loaded). Kept databases are reused when complete."""
    name = f"voice_similar_{n}" + ("" if ENCODER == _hashed_encoder.NAME else "_" + ENCODER.replace("-", "_"))
    name = name if keep else f"{name}_{os.getpid()}"
    url = with_database(server_url(), name)
    exists = asyncio.run(_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))  # noqa: S608 - from an int
    ready = bool(exists) and asyncio.run(_loaded(url))
    if not ready:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    subprocess.run([sys.executable, "-m", "voice.cli", "db", "upgrade"], check=True, cwd=ROOT, env=voice_env(url),
                   capture_output=True)
    try:
        yield url, not ready
    finally:
        if not keep:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_cpu(name: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to database ``name``."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(name in part for part in proc.info["cmdline"] or []) and "postgres" in " ".join(proc.info["cmdline"]):
                times = proc.cpu_times()
                total += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds used so far by uvicorn's worker processes."""
    import psutil

    total = 0.0
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def line(name: str, values: list[float]) -> str:
    return (f"| {name} | {len(values)} | {statistics.median(values):.1f} | {percentile(values, 99):.1f} | "
            f"{max(values):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the loaded database for later runs")
    parser.add_argument("--drop", action="store_true", help="drop the kept database and stop")
    parser.add_argument("--encoder", default=_hashed_encoder.NAME, help="hashed (the stand-in), e5-static or e5")
    args = parser.parse_args()
    global ENCODER
    ENCODER = args.encoder
    _hashed_encoder.install()
    began = time.perf_counter()
    stored = perturbed(messages("msa_pal_train.csv"), args.ideas, seed=1)
    queries = typed(stored, messages("msa_test.csv"), args.queries)
    print(f"machine: {machine()}; load before: {os.getloadavg()}", flush=True)
    if args.drop:
        suffix = "" if ENCODER == _hashed_encoder.NAME else "_" + ENCODER.replace("-", "_")
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "voice_similar_{args.ideas}{suffix}" WITH (FORCE)'))
        return
    with bench_database(args.ideas, args.keep) as (url, empty):
        if empty:
            subprocess.run([sys.executable, "-m", "voice.cli", "user", "create", "--email", "author@bench.sa",
                            "--password", "bench-password-1", "--role", "citizen"], check=True, cwd=ROOT,
                           env=voice_env(url), capture_output=True)
            start = time.perf_counter()
            ids = asyncio.run(load_ideas(url, stored))
            inserted = time.perf_counter() - start
            encode_s, index_s = asyncio.run(load_vectors(url, ids, [f"{t} {d}" for t, d in stored]))
            asyncio.run(_mark_loaded(url))
            print(f"{len(ids)} ideas inserted in {inserted:.1f} s; vectors encoded in {encode_s:.1f} s; "
                  f"HNSW index built in {index_s:.1f} s", flush=True)
        else:
            print(f"reusing the loaded database of {args.ideas} ideas (--keep)", flush=True)
        loads = {"service call": os.getloadavg()[0]}
        service = asyncio.run(service_calls(url, queries))
        print("plan:\n  " + "\n  ".join(p if len(p) < 150 else p[:110] + " …" for p in service["plan"]), flush=True)
        assert any(index_name() in p for p in service["plan"]), "HNSW index not used"
        stand_in = [str(ROOT / "bench" / "_hashed_server.py")] if ENCODER == _hashed_encoder.NAME else None
        with running_server(url, workers=2, extra_env={"VOICE_ENCODER": ENCODER}, command=stand_in,
                            start_timeout=240) as (base, proc):
            database = urlsplit(url).path.lstrip("/")
            asyncio.run(http_calls(base, queries[:40], 2))  # warm-up of both workers
            cpu = server_cpu(proc), database_cpu(database)
            loads["HTTP, 1 client"] = os.getloadavg()[0]
            one = asyncio.run(http_calls(base, queries, 1))
            http_cpu = ((server_cpu(proc) - cpu[0]) * 1000 / len(queries),
                        (database_cpu(database) - cpu[1]) * 1000 / len(queries))
            loads["HTTP, 4 clients"] = os.getloadavg()[0]
            four = asyncio.run(http_calls(base, queries, 4))
            loads["end"] = os.getloadavg()[0]
    print(f"\nrecall@{K} of the HNSW search against an exact scan (50 queries): {service['recall']:.3f}")
    print(f"ideas found per query (k={K}): median {statistics.median(service['hits'])}, "
          f"none for {sum(h == 0 for h in service['hits'])} of {len(service['hits'])}")
    print("\n| call | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    print(line("service call, in-process (encode + search + load ideas)", service["times"]))
    print(line("GET /api/v1/ideas/similar, 1 client", one["api"]))
    print(line("GET /ideas/similar-panel, 1 client", one["panel"]))
    print(line("GET /api/v1/ideas/similar, 4 clients", four["api"]))
    print(line("GET /ideas/similar-panel, 4 clients", four["panel"]))
    print(f"\nCPU per call (whatever the load, they add up to the time on an idle core): service call "
          f"{service['cpu'][0]:.1f} ms in Python + {service['cpu'][1]:.1f} ms in PostgreSQL; HTTP request (1 client) "
          f"{http_cpu[0]:.1f} ms in the uvicorn workers + {http_cpu[1]:.1f} ms in PostgreSQL")
    print("load average (1 min) as each step began: " + ", ".join(f"{k} {v:.1f}" for k, v in loads.items()))
    print(f"\ntotal {time.perf_counter() - began:.0f} s; load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
