"""`voice run` under load while theme jobs run: what issue 17's "Done when" asks of intake and themes.

    cd bench && ../.venv/bin/python run_load_bench.py [--items 10000] [--new 200] [--seconds 20] [--burst 30]
                                                      [--web-processes N]

One command, one throw-away database (the embedded PostgreSQL 16 + pgvector, or BENCH_DATABASE_URL),
the real `voice run --no-demo` (its web processes on one socket + the job worker child at nice 10, as
`make run` starts them; ``--web-processes`` passes ``--workers``, else `voice run` picks its default):

1. Seed one agency with ``--items`` stored feedback items (distinct real Arabic customer messages from
   ArBanking77) and their sentence vectors in text_embedding, as the encoding job leaves them (vectors
   computed once per encoder and cached in /tmp by bench/_vectors.py).
2. Refresh A: the agency's first theme refresh over the stored items (every vector stored).
3. Refresh B (target ≤ 15 s): ``--new`` new items, stored without vectors, then a refresh.
4. Burst (target ≤ 10 s): about ``--rate`` submissions a second through the API for ``--burst`` seconds
   (wrk, 64 connections each pausing 64/rate s between requests); for every item stored, the time from
   its storage until the assignment job has given it its theme (or decided it has none), polled in the
   database every 0.1 s. (A Python client was tried first: under load, httpx's connection pool spent its
   CPU matching queued requests to connections and stopped sending.)
5. Load (targets: ≥ 50 % of raw asyncpg inserts, p99 ≤ 100 ms, every 201 stored): a refresh is
   requested and the assignment jobs of the burst and of this load run while wrk drives ``--clients``
   connections of POST /api/v1/feedback for ``--seconds``; then raw asyncpg inserts of as many rows at
   the same concurrency, in the same run, with the jobs still running.
6. SIGINT to `voice run`: how long until the web processes, the worker and their children are gone.

Prints a summary table (also bench/out/run_load.md) with `uptime`'s load next to every phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
from _data import libpq, load_agencies
from _server import ROOT, free_port, fresh_database, machine, percentile, wait_until_healthy, wrk_post
from _vectors import bench_texts, cached_public, cached_vectors
from http_bench import raw_run, wrk_run

AGENCY, OTHER_AGENCY = "passports", "hrsd"  # the seeded agency; raw inserts go to another one (no themes)
OUT = ROOT / "bench" / "out"


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# ----------------------------------------------------------------------------------------------- seeding
async def seed(url: str, texts: list[str], encoder: str, vectors, *, days_ago: tuple[float, float]) -> list[int]:
    """Feedback rows of the seeded agency with these texts, created within ``days_ago`` (spread evenly), and
    their vectors when given; returns the ids."""
    public = cached_public(texts)
    conn = await asyncpg.connect(libpq(url))
    try:
        agency_id = await conn.fetchval("SELECT id FROM agency WHERE slug = $1", AGENCY)
        now = datetime.now(UTC)
        span = days_ago[0] - days_ago[1]
        created = [now - timedelta(days=days_ago[0] - span * i / max(len(texts) - 1, 1)) for i in range(len(texts))]
        codes = [f"S{uuid.uuid4().hex[:12].upper()}" for _ in texts]
        ids = [r["id"] for r in await conn.fetch(
            "INSERT INTO feedback (tracking_code, agency_id, kind, submitter_kind, channel, body, body_public, "
            "search_text, publish, moderation, is_public, status, supporters, due_at, language, created_at, updated_at) "
            "SELECT code, $1, 'complaint', 'individual', 'web', body, pub, st, true, 'visible', true, 'received', 0, "
            "c + interval '5 days', 'ar', c, c FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], "
            "$6::timestamptz[]) AS u(code, body, pub, st, c) RETURNING id",
            agency_id, codes, texts, [p for p, _ in public], [s for _, s in public], created)]
        if vectors is not None:
            kind = await conn.fetchval("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                       "WHERE attrelid = 'text_embedding'::regclass AND attname = 'embedding'")
            pgvector = kind.startswith("vector")
            literal = ("[{}]" if pgvector else "{{{}}}").format
            cast = "vector" if pgvector else "real[]"
            sql = ("INSERT INTO text_embedding (kind, text_id, encoder, dim, embedding, created_at, updated_at) "
                   "SELECT 'feedback', id, $1, $2, CAST(v AS " + cast + "), now(), now() "
                   "FROM unnest($3::bigint[], $4::text[]) AS u(id, v)")
            await conn.execute(
                sql, encoder, vectors.shape[1], ids, [literal(",".join(f"{x:.7g}" for x in row)) for row in vectors])
        return ids
    finally:
        await conn.close()


# ------------------------------------------------------------------------------------------ voice run
@contextlib.contextmanager
def voice_run(url: str, log_path: Path, web_processes: int | None = None):
    """`voice run --no-demo` on loopback against ``url``, as `make run` starts it (web processes + worker child)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "VOICE_RATE_LIMIT": "off", "VOICE_LOG_LEVEL": "WARNING",
           "VOICE_SECURE_COOKIES": "off", "VOICE_METRICS": "off", "SECRET_KEY": "bench-" + "x" * 40,
           "PYTHONPATH": str(ROOT / "src")}
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "voice.cli", "run", "--no-demo", "--host", "127.0.0.1",
                             "--port", str(port), *(["--workers", str(web_processes)] if web_processes else [])],
                            cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    # Imports and start-up take minutes on a machine with a load of 25.
    if not wait_until_healthy(base, proc, 300):
        stop_run(proc)
        raise RuntimeError("voice run did not start; see " + str(log_path))
    try:
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        for child in _children(proc.pid):
            with contextlib.suppress(psutil.Error):
                child.kill()
        log.close()


def _children(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


def worker_pids(run_pid: int) -> list[int]:
    """The job worker(s) `voice run` started (its own session, so not in the web server's group)."""
    return [p.pid for p in _children(run_pid) if "worker" in " ".join(p.cmdline())]


def web_pids(run_pid: int) -> list[int]:
    """`voice run` itself when it serves alone, else its web processes (uvicorn's, spawned by multiprocessing)."""
    spawned = [p.pid for p in _children(run_pid) if "spawn_main" in " ".join(p.cmdline())]
    return spawned or [run_pid]


def stop_run(proc: subprocess.Popen) -> float:
    """Ctrl-C to `voice run`; seconds until it and every process it started are gone."""
    family = [proc.pid, *(p.pid for p in _children(proc.pid))]
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in family):
        if time.perf_counter() - start > 30:
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.05)
    return time.perf_counter() - start


class Cpu:
    """CPU seconds of the web processes (and `voice run` supervising them), the worker and PostgreSQL
    between two readings."""

    def __init__(self, run_pid: int) -> None:
        self.run_pid = run_pid
        self.start = self.read()

    def read(self) -> dict[str, float]:
        def total(procs) -> float:
            s = 0.0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    s += t.user + t.system  # children counted by themselves (reaped ones only add to these)
            return s

        web = {self.run_pid, *web_pids(self.run_pid)}
        workers = [psutil.Process(p) for p in worker_pids(self.run_pid)]
        worker_family = [w for p in workers for w in (p, *p.children(recursive=True))]
        pg = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
        return {"web": total([psutil.Process(p) for p in web]), "worker": total(worker_family), "postgres": total(pg)}

    def since(self) -> dict[str, float]:
        now = self.read()
        return {k: now[k] - self.start[k] for k in now}


# ------------------------------------------------------------------------------------------- refreshes
async def request_refresh(url: str, agency_id: int) -> int:
    """Queue a refresh the way staff do (voice.themes.services.request_refresh)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    import voice.models  # noqa: F401
    from voice.db import asyncpg_url
    from voice.themes.services import request_refresh as request

    engine = create_async_engine(asyncpg_url(url))
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            return (await request(session, agency_id, None)).id
    finally:
        await engine.dispose()


async def wait_refresh(url: str, run_id: int, within: float) -> dict:
    """Poll the run until it ends; its duration from the job's start (procrastinate's 'started' event)."""
    conn = await asyncpg.connect(libpq(url))
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            row = await conn.fetchrow("SELECT status, n_texts, n_themes, error, finished_at FROM theme_run WHERE id = $1",
                                      run_id)
            if row["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.2)
        started = await conn.fetchval(
            "SELECT max(e.at) FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id "
            "WHERE j.task_name = 'voice.refresh_themes' AND (j.args->>'run_id')::bigint = $1 AND e.type = 'started'",
            run_id)
        out = dict(row)
        out["seconds"] = (row["finished_at"] - started).total_seconds() if row["finished_at"] and started else None
        return out
    finally:
        await conn.close()


# ----------------------------------------------------------------------------------------------- burst
def payload(body: str, agency: str = AGENCY) -> dict:
    return {"agency": agency, "kind": "complaint", "submitter_kind": "individual", "body": body, "publish": True,
            "rating": None}


def paced_wrk(base: str, items: list[dict], rate: float, seconds: float, connections: int = 64) -> dict:
    """wrk sending about ``rate`` requests a second: each of ``connections`` connections waits
    connections/rate seconds between its answer and its next request."""
    return wrk_post(base, items, connections, seconds, pause_ms=round(connections / rate * 1000))


async def burst(base: str, url: str, bodies: list[str], rate: float, seconds: float, settle: float) -> dict:
    """About ``rate`` submissions a second for ``seconds`` (wrk, paced); for each item stored meanwhile,
    the delay from its storage (created_at) until the assignment job has decided its theme (theme_id or
    theme_score set), polled in the database every 0.1 s."""
    conn = await asyncpg.connect(libpq(url))
    agency_id = await conn.fetchval("SELECT id FROM agency WHERE slug = $1", AGENCY)
    last = await conn.fetchval("SELECT coalesce(max(id), 0) FROM feedback")
    pending: set[int] = set()
    delays: list[float] = []
    sending = asyncio.create_task(asyncio.to_thread(paced_wrk, base, [payload(b) for b in bodies], rate, seconds))
    deadline = None
    while True:
        sent = sending.done()  # read before the poll, so the last poll sees every stored item
        rows = await conn.fetch(
            "SELECT id, theme_id IS NOT NULL OR theme_score IS NOT NULL AS decided, "
            "extract(epoch FROM clock_timestamp() - created_at) AS d FROM feedback "
            "WHERE agency_id = $1 AND (id > $2 OR id = ANY($3::bigint[]))", agency_id, last, list(pending))
        for r in rows:  # each row comes back until it is decided, then never again
            last = max(last, r["id"])
            if r["decided"]:
                delays.append(float(r["d"]))
                pending.discard(r["id"])
            else:
                pending.add(r["id"])
        if sent:
            deadline = deadline or time.monotonic() + settle
            if not pending or time.monotonic() > deadline:
                break
        await asyncio.sleep(0.1)
    res = sending.result()
    await conn.close()
    late = len(pending)
    return {"sent": res["requests"], "rate": res["requests"] / res["seconds"], "errors": res["non_2xx"] + res["socket_errors"],
            "http_p50": res["p50_ms"], "http_p99": res["p99_ms"], "assigned": len(delays), "unassigned_after_settle": late,
            "p50": percentile(delays, 50), "p95": percentile(delays, 95), "p99": percentile(delays, 99),
            "max": max(delays) if delays else float("nan"),
            "within_10s": sum(d <= 10 for d in delays) / max(len(delays) + late, 1)}


# ------------------------------------------------------------------------------------------------ load
async def load_checks(url: str, since: datetime) -> tuple[int, int]:
    """(API rows stored since, idempotency claims since whose item is missing)."""
    conn = await asyncpg.connect(libpq(url))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM feedback WHERE channel = 'api' AND created_at >= $1", since)
        missing = await conn.fetchval(
            "SELECT count(*) FROM idempotency_key k LEFT JOIN feedback f ON f.id = (k.response->>'id')::bigint "
            "WHERE k.created_at >= $1 AND k.status_code = 201 AND f.id IS NULL", since)
        return stored, missing
    finally:
        await conn.close()


async def jobs_doing(url: str) -> tuple[list[str], list[str]]:
    """Running jobs, and what active PostgreSQL sessions wait on (for the log)."""
    conn = await asyncpg.connect(libpq(url))
    try:
        jobs = [r[0] for r in await conn.fetch("SELECT task_name FROM procrastinate_jobs WHERE status = 'doing'")]
        waits = [f"{r[0]}:{r[1]} {r[2]}" for r in await conn.fetch(
            "SELECT wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity "
            "WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")]
        return jobs, waits
    finally:
        await conn.close()


class JobSampler:
    """Which jobs run during a phase, sampled every second in a thread."""

    def __init__(self, url: str) -> None:
        import threading
        from collections import Counter

        self.url, self.seen, self.samples, self.busy, self.waits = url, set(), 0, 0, Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            doing, waits = asyncio.run(jobs_doing(self.url))
            self.waits.update(waits)
            self.samples += 1
            self.busy += bool(doing)
            self.seen.update(doing)
            self.stop.wait(1)

    def __enter__(self) -> JobSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def log(self, what: str, path: Path) -> None:
        with path.open("a", encoding="utf-8") as f:
            f.write(f"--- {what}: active sessions sampled each second ({self.samples} samples)\n")
            f.writelines(f"{n:5d} {w}\n" for w, n in self.waits.most_common(15))

    def describe(self) -> str:
        names = ", ".join(sorted(n.removeprefix("voice.") for n in self.seen)) or "none"
        return f"{names} ({self.busy}/{self.samples} s busy)"


# ------------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000, help="stored items of the agency, with vectors")
    parser.add_argument("--new", type=int, default=200, help="new items (no vectors) before refresh B")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20, help="wrk load phase")
    parser.add_argument("--rate", type=float, default=64, help="submissions a second in the burst")
    parser.add_argument("--burst", type=float, default=30, help="seconds of burst")
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait for late assignments")
    parser.add_argument("--web-processes", type=int, default=None, help="voice run --workers (default: its own)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian package wrk)")
    from nlp.embeddings import get_encoder
    from nlp.themes.base import resolve_method

    OUT.mkdir(exist_ok=True)
    log_path = OUT / "run_load.log"
    log_path.write_bytes(b"")
    texts = bench_texts(args.items + args.new + 2000)
    stored_texts, new_texts, pool = texts[:args.items], texts[args.items:args.items + args.new], texts[args.items + args.new:]
    method, encoder_name = resolve_method("auto", args.items + args.new, "e5")
    encoder = get_encoder(encoder_name) if method != "tfidf" else None
    t = time.perf_counter()
    vectors = cached_vectors(encoder.name, stored_texts) if encoder else None
    print(f"vectors of {len(stored_texts)} texts ({encoder.name if encoder else 'none'}): "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    rows: list[tuple[str, str, str, str]] = []  # (what, result, target, load)

    def report(what: str, result: str, target: str = "") -> None:
        rows.append((what, result, target, load_avg()))
        line = f"{what}: {result}  [{target}] load {load_avg()}"
        print(line, flush=True)
        with log_path.open("a", encoding="utf-8") as f:
            f.write(f"=== {line}\n")

    with fresh_database() as url:
        load_agencies(url)
        t = time.perf_counter()
        asyncio.run(seed(url, stored_texts, encoder.name if encoder else "", vectors, days_ago=(90, 1)))
        report(f"seed {args.items} items + vectors", f"{time.perf_counter() - t:.1f} s")
        agency_id = asyncio.run(_agency_id(url))
        with voice_run(url, log_path, args.web_processes) as (base, proc):
            a = asyncio.run(wait_refresh(url, asyncio.run(request_refresh(url, agency_id)), 600))
            web = web_pids(proc.pid)
            report("voice run", f"{len(web)} web process(es) {web} nice {[psutil.Process(p).nice() for p in web]}, worker pids "
                   f"{worker_pids(proc.pid)} nice {[psutil.Process(p).nice() for p in worker_pids(proc.pid)]}")
            report(f"refresh A: {a['n_texts']} items, all vectors stored", f"{a['seconds']:.1f} s, "
                   f"{a['n_themes']} themes, {a['status']}")
            asyncio.run(seed(url, new_texts, "", None, days_ago=(0.01, 0.001)))
            b = asyncio.run(wait_refresh(url, asyncio.run(request_refresh(url, agency_id)), 600))
            report(f"refresh B: {b['n_texts']} items, {args.new} new without vectors", f"**{b['seconds']:.1f} s**, "
                   f"{b['n_themes']} themes, {b['status']}", "≤ 15 s")

            if encoder is not None:  # what encoding costs right now, for reading the times above and below
                probe = [f"{t} ({n})" for n, t in enumerate(pool[:100])]
                t = time.perf_counter()
                encoder.encode(probe)
                report(f"encoder {encoder.name} in the bench process (nice 0)",
                       f"{len(probe) / (time.perf_counter() - t):.0f} texts/s")
            cpu = Cpu(proc.pid)
            with JobSampler(url) as sampler:
                r = asyncio.run(burst(base, url, pool, args.rate, args.burst, args.settle))
            sampler.log("burst", log_path)
            used = cpu.since()
            report(f"burst: {r['sent']} submissions at {r['rate']:.1f}/s for {args.burst:g} s",
                   f"theme decided after p50 {r['p50']:.1f} s, p95 {r['p95']:.1f} s, p99 **{r['p99']:.1f} s**, "
                   f"max {r['max']:.1f} s; {r['within_10s']:.0%} within 10 s; {r['unassigned_after_settle']} "
                   f"not decided {args.settle:g} s after the burst; HTTP errors {r['errors']}, p50 "
                   f"{r['http_p50']:.0f} ms, p99 {r['http_p99']:.0f} ms; jobs: {sampler.describe()}; CPU s web/worker/PostgreSQL "
                   f"{used['web']:.0f}/{used['worker']:.0f}/{used['postgres']:.0f}", "≤ 10 s")

            run_c = asyncio.run(request_refresh(url, agency_id))
            time.sleep(1)
            since = datetime.now(UTC) - timedelta(seconds=1)
            items = [payload(body) for body in pool]
            cpu = Cpu(proc.pid)
            with JobSampler(url) as sampler:
                res = wrk_run(base, items, args.clients, args.seconds)
            sampler.log("load", log_path)
            used = cpu.since()
            http_jobs = sampler.describe()
            ok = res["requests"] - res["non_2xx"]
            stored, missing = asyncio.run(load_checks(url, since))
            http_rps = res["requests"] / res["seconds"]
            raw_items = [payload(body, OTHER_AGENCY) for body in (pool * (ok // len(pool) + 1))[:max(ok, 500)]]
            with JobSampler(url) as raw_sampler:
                raw_elapsed, raw_lat = asyncio.run(raw_run(url, raw_items, args.clients))
            raw_rps = len(raw_items) / raw_elapsed
            c = asyncio.run(wait_refresh(url, run_c, 1))
            stored_ok = (ok <= stored <= ok + args.clients) and missing == 0
            report(f"load: wrk {args.clients} clients for {args.seconds:g} s, refresh C requested",
                   f"HTTP {http_rps:.0f} req/s, p50 {res['p50_ms']:.0f} ms, p99 **{res['p99_ms']:.0f} ms**, "
                   f"{res['non_2xx']} non-2xx, {res['socket_errors']} socket errors; jobs: {http_jobs}; "
                   f"CPU s web/worker/PostgreSQL {used['web']:.0f}/{used['worker']:.0f}/{used['postgres']:.0f}",
                   "p99 ≤ 100 ms")
            report(f"raw asyncpg: {len(raw_items)} single-row inserts, {args.clients} connections, same run",
                   f"{raw_rps:.0f} rows/s, p99 {percentile(raw_lat, 99):.0f} ms; jobs: {raw_sampler.describe()}; "
                   f"HTTP / raw **{http_rps / raw_rps:.0%}**", "≥ 50 %")
            report("every 201 stored", f"{'yes' if stored_ok else 'NO'}: {ok} 201s, {stored} rows "
                   f"(+{stored - ok} in flight at the end), {missing} claimed keys without their item",
                   "all")
            report("refresh C (during the load)", f"{c['status']}"
                   + (f", {c['seconds']:.1f} s" if c["seconds"] else ""))
            report("Ctrl-C on voice run (jobs running)", f"all processes gone in {stop_run(proc):.1f} s", "≤ 5 s")

    lines = [f"Machine: {machine()}. `voice run --no-demo` ({len(web)} web process(es), job worker child at nice 10), "
             f"{'BENCH_DATABASE_URL' if os.environ.get('BENCH_DATABASE_URL') else 'embedded PostgreSQL'}; "
             f"theme method {method} ({encoder.name if encoder else 'no encoder'}); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", "",
             "| phase | result | target | load avg 1/5/15 min |", "|---|---|---|---|"]
    lines += [f"| {w} | {r} | {t} | {la} |" for w, r, t, la in rows]
    (OUT / "run_load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


async def _agency_id(url: str) -> int:
    conn = await asyncpg.connect(libpq(url))
    try:
        return await conn.fetchval("SELECT id FROM agency WHERE slug = $1", AGENCY)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
