"""Load and faults: many submissions with retries, while the web server, the database or a worker dies.

    python bench/load_faults.py load        [--requests 20000] [--concurrency 100]
    python bench/load_faults.py kill-web    [--requests 4000]  [--kill-at 0.3] [--pause 1]
    python bench/load_faults.py restart-db  [--requests 4000]  [--kill-at 0.3] [--down 5]
    python bench/load_faults.py kill-worker [--texts 1200] [--observe 45]

Every client sends `POST /api/v1/feedback` with its own Idempotency-Key and retries the same request
(same key, same body) on connection errors, timeouts, 409 "still being processed" and 5xx, with
capped exponential back-off, until it gets 201 or runs out of attempts. Afterwards the database is
checked: every acknowledged tracking code is stored exactly once, under the key that acknowledged
it, and the table has one row per key (no duplicates from retries).

`load` and `kill-web` use BENCH_DATABASE_URL when set, else the embedded server in .data/bench.
`restart-db` needs the embedded server (it stops and starts it with pg_ctl). `kill-worker` runs
`voice worker` subprocesses and a real theme refresh (the `auto` method: e5 + LSA when available).

Each sub-command prints a result line and appends a Markdown table to bench/out/faults.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import _data
import asyncpg
import httpx
from _server import ROOT, free_port, fresh_database, machine, percentile, running_server
from http_bench import payloads

OUT = ROOT / "bench" / "out"
LOGS = OUT / "logs"
RETRYABLE = {409, 429}


# ----- the load -----------------------------------------------------------------------------------

@dataclass
class Load:
    acked: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> tracking code
    statuses: Counter = field(default_factory=Counter)  # every HTTP answer, retries included
    transport: Counter = field(default_factory=Counter)  # connection errors and timeouts by type
    latencies: list[float] = field(default_factory=list)  # ms from the first attempt to the 201
    gave_up: list[str] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)  # 4xx that retrying cannot fix
    elapsed: float = 0.0
    milestone: int = 0  # ``reached`` is set once this many submissions were acknowledged
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def retries(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport.values()) - len(self.acked) - len(self.refused)


async def submit(client: httpx.AsyncClient, item: dict, key: str, load: Load, max_attempts: int) -> None:
    start = time.perf_counter()
    delay = 0.05
    for _attempt in range(max_attempts):
        try:
            r = await client.post("/api/v1/feedback", json=item, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:  # refused, reset, closed mid-answer, timed out
            load.transport[type(exc).__name__] += 1
        else:
            load.statuses[r.status_code] += 1
            if r.status_code == 201:
                load.acked[key] = r.json()["tracking_code"]
                load.latencies.append((time.perf_counter() - start) * 1000)
                if len(load.acked) >= load.milestone:
                    load.reached.set()
                return
            if r.status_code < 500 and r.status_code not in RETRYABLE:
                load.refused.append((key, r.status_code, r.text[:300]))
                return
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 2.0)
    load.gave_up.append(key)


async def run_load(base: str, items: list[dict], concurrency: int, load: Load, max_attempts: int = 80,
                   request_timeout: float = 15.0) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait((str(uuid.uuid4()), item))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=request_timeout) as client:
        async def worker() -> None:
            while not queue.empty():
                key, item = queue.get_nowait()
                await submit(client, item, key, load, max_attempts)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        load.elapsed = time.perf_counter() - start


async def verify(url: str, load: Load) -> dict:
    """What the database holds against what the clients were told."""
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        codes = Counter(r["tracking_code"] for r in await conn.fetch("SELECT tracking_code FROM feedback"))
        keyed = {r["key"]: r["code"] for r in await conn.fetch(
            "SELECT key, response->>'tracking_code' AS code FROM idempotency_key WHERE status_code = 201")}
        pending_keys = await conn.fetchval("SELECT count(*) FROM idempotency_key WHERE status_code <> 201")
    finally:
        await conn.close()
    missing = [k for k, c in load.acked.items() if codes.get(c) != 1]
    mismatched = [k for k, c in load.acked.items() if keyed.get(k) != c]
    unkeyed = sum(codes.values()) - len(set(keyed.values()) & set(codes))
    result = {
        "rows": sum(codes.values()), "keys": len(keyed), "acked": len(load.acked), "missing": len(missing),
        "mismatched": len(mismatched), "rows_without_key": unkeyed, "pending_keys": pending_keys,
        "gave_up": len(load.gave_up), "refused": len(load.refused),
    }
    result["ok"] = (not missing and not mismatched and unkeyed == 0 and result["rows"] == result["keys"]
                    and not load.gave_up and not load.refused and result["rows"] == len(load.acked))
    return result


def describe_load(load: Load, n: int) -> dict:
    five = {s: c for s, c in load.statuses.items() if s >= 500}
    return {
        "requests": n, "seconds": round(load.elapsed, 1), "per_s": round(len(load.acked) / load.elapsed, 1)
        if load.elapsed else 0, "p50_ms": round(percentile(load.latencies, 50), 1),
        "p99_ms": round(percentile(load.latencies, 99), 1), "max_ms": round(max(load.latencies or [0]), 1),
        "retries": load.retries(), "http_5xx": dict(sorted(five.items())), "http_500": load.statuses.get(500, 0),
        "transport_errors": dict(load.transport), "http_409": load.statuses.get(409, 0),
    }


def items_for(n: int) -> list[dict]:
    return payloads(n)


# ----- reporting ----------------------------------------------------------------------------------

def report(name: str, command: str, rows: list[tuple[str, object]]) -> None:
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"### {name} ({stamp})", "", f"Command: `{command}`  ", f"Machine: {machine()}", "",
             "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v if not isinstance(v, dict) else json.dumps(v, ensure_ascii=False)} |" for k, v in rows]
    with (OUT / "faults.md").open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n\n")
    print(f"RESULT {name}: " + "; ".join(f"{k}={v}" for k, v in rows), flush=True)


def command_line() -> str:
    env = "BENCH_DATABASE_URL=… " if os.environ.get("BENCH_DATABASE_URL") else ""
    return env + ".venv/bin/python bench/load_faults.py " + " ".join(sys.argv[1:])


def server_log(name: str) -> Path:
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}.log"
    path.touch()
    return path


def count_in(path: Path, needle: str) -> int:
    return path.read_text(encoding="utf-8", errors="replace").count(needle) if path.exists() else 0


# ----- sub-commands -------------------------------------------------------------------------------

def cmd_load(args: argparse.Namespace) -> bool:
    items = items_for(args.requests)
    log = server_log("load")
    with fresh_database() as url:
        _data.load_agencies(url)
        with running_server(url, workers=args.workers, log_path=log) as (base, _proc):
            load = Load()
            asyncio.run(run_load(base, items, args.concurrency, load))
        check = asyncio.run(verify(url, load))
    stats = describe_load(load, args.requests)
    report("load", command_line(), [
        ("requests × clients", f"{args.requests} × {args.concurrency} (uvicorn workers: {args.workers})"),
        ("wall time (s)", stats["seconds"]), ("acknowledged submissions/s", stats["per_s"]),
        ("latency to 201, p50 / p99 / max (ms)", f"{stats['p50_ms']} / {stats['p99_ms']} / {stats['max_ms']}"),
        ("retries", stats["retries"]), ("5xx answers", stats["http_5xx"]),
        ("connection errors / timeouts", stats["transport_errors"]),
        ("unhandled errors in the server log", count_in(log, "unhandled error")),
        ("database check", check),
        ("20,000 at this rate (s)", round(20000 / stats["per_s"]) if stats["per_s"] else "–"),
    ])
    return check["ok"]


def cmd_kill_web(args: argparse.Namespace) -> bool:
    items = items_for(args.requests)
    log = server_log("kill-web")
    port = free_port()
    timeline: dict[str, float] = {}
    with fresh_database() as url, contextlib.ExitStack() as stack:
        _data.load_agencies(url)
        base, first = stack.enter_context(running_server(url, workers=args.workers, port=port, new_session=True,
                                                         log_path=log))
        load = Load(milestone=int(args.requests * args.kill_at))

        async def fault() -> None:
            await load.reached.wait()
            timeline["acked_before"] = len(load.acked)
            timeline["kill"] = time.perf_counter()
            os.killpg(first.pid, signal.SIGKILL)  # the uvicorn supervisor and both workers
            await asyncio.sleep(args.pause)
            await asyncio.to_thread(stack.enter_context, running_server(
                url, workers=args.workers, port=port, new_session=True, log_path=log))
            timeline["up"] = time.perf_counter()
            timeline["acked_at_up"] = len(load.acked)

        async def both() -> None:
            start = time.perf_counter()
            task = asyncio.create_task(fault())
            await run_load(base, items, args.concurrency, load)
            await task
            timeline["start"] = start

        asyncio.run(both())
        check = asyncio.run(verify(url, load))
    stats = describe_load(load, args.requests)
    report("kill-web", command_line(), [
        ("requests × clients", f"{args.requests} × {args.concurrency} (uvicorn workers: {args.workers})"),
        ("SIGKILL of the server's process group", f"after {timeline['acked_before']} acknowledgements, "
                                                   f"{timeline['kill'] - timeline['start']:.1f} s into the run"),
        ("from SIGKILL to the new server answering /health (s)",
         f"{timeline['up'] - timeline['kill']:.1f} (of which {args.pause} s waiting before the restart)"),
        ("wall time (s)", stats["seconds"]),
        ("latency to 201, p50 / p99 / max (ms)", f"{stats['p50_ms']} / {stats['p99_ms']} / {stats['max_ms']}"),
        ("retries", stats["retries"]), ("5xx answers", stats["http_5xx"]),
        ("connection errors / timeouts", stats["transport_errors"]),
        ("409 (same key still in flight)", stats["http_409"]),
        ("unhandled errors in the server log", count_in(log, "unhandled error")),
        ("database check", check),
    ])
    return check["ok"]


def _embedded_pgdata() -> Path:
    return ROOT / ".data" / "bench" / "pg"


def _pg_ctl(*args: str) -> None:
    import pgserver

    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    # pgserver runs the server as the `pgserver` OS user when we are root; pg_ctl must run as it too.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(_embedded_pgdata()), *args], check=True, user=user,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def _start_embedded() -> None:
    import pgserver

    server = pgserver.get_server(_embedded_pgdata())  # this process's handle, kept by voice.db
    with server._lock:  # pgserver's own inter-process lock around start-up
        server.ensure_postgres_running()


def cmd_restart_db(args: argparse.Namespace) -> bool:
    if os.environ.get("BENCH_DATABASE_URL"):
        sys.exit("restart-db stops and starts the embedded server: unset BENCH_DATABASE_URL")
    items = items_for(args.requests)
    log = server_log("restart-db")
    timeline: dict[str, float] = {}
    health: list[tuple[float, int | str]] = []
    with fresh_database() as url:
        _data.load_agencies(url)
        with running_server(url, workers=args.workers, log_path=log) as (base, _proc):
            load = Load(milestone=int(args.requests * args.kill_at))
            done = asyncio.Event()

            async def watch_health() -> None:
                async with httpx.AsyncClient(base_url=base, timeout=3) as client:
                    while not done.is_set():
                        try:
                            r = await client.get("/health")
                            health.append((time.perf_counter(), r.status_code))
                        except httpx.TransportError as exc:
                            health.append((time.perf_counter(), type(exc).__name__))
                        await asyncio.sleep(0.1)

            async def fault() -> None:
                await load.reached.wait()
                timeline["acked_before"] = len(load.acked)
                timeline["stop"] = time.perf_counter()
                await asyncio.to_thread(_pg_ctl, "-m", "fast", "-w", "stop")
                timeline["stopped"] = time.perf_counter()
                await asyncio.sleep(args.down)
                timeline["start"] = time.perf_counter()
                await asyncio.to_thread(_start_embedded)
                timeline["started"] = time.perf_counter()

            async def all_of_it() -> None:
                timeline["begin"] = time.perf_counter()
                watcher = asyncio.create_task(watch_health())
                task = asyncio.create_task(fault())
                await run_load(base, items, args.concurrency, load)
                await task
                await asyncio.sleep(1)
                done.set()
                await watcher

            asyncio.run(all_of_it())
        check = asyncio.run(verify(url, load))
    stats = describe_load(load, args.requests)
    back = next((t for t, s in health if t > timeline["start"] and s == 200), None)
    down_health = Counter(s for t, s in health if timeline["stop"] <= t <= (back or timeline["started"]))
    report("restart-db", command_line(), [
        ("requests × clients", f"{args.requests} × {args.concurrency} (uvicorn workers: {args.workers})"),
        ("PostgreSQL stopped (pg_ctl -m fast)", f"after {timeline['acked_before']} acknowledgements; "
                                                 f"kept down {args.down} s"),
        ("pg_ctl stop took / start took (s)", f"{timeline['stopped'] - timeline['stop']:.1f} / "
                                              f"{timeline['started'] - timeline['start']:.1f}"),
        ("/health 200 again, after the start command / after the stop (s)",
         f"{back - timeline['start']:.1f} / {back - timeline['stop']:.1f}" if back else "never"),
        ("/health answers while down", dict(down_health)),
        ("503 answers to submissions", load.statuses.get(503, 0)), ("500 answers", stats["http_500"]),
        ("all 5xx", stats["http_5xx"]), ("connection errors / timeouts", stats["transport_errors"]),
        ("unhandled errors in the server log", count_in(log, "unhandled error")),
        ("wall time (s)", stats["seconds"]),
        ("latency to 201, p50 / p99 / max (ms)", f"{stats['p50_ms']} / {stats['p99_ms']} / {stats['max_ms']}"),
        ("database check", check),
    ])
    return check["ok"] and stats["http_500"] == 0 and back is not None


# ----- kill-worker --------------------------------------------------------------------------------

def start_worker(url: str, log: Path) -> subprocess.Popen:
    env = {**_data.voice_env(url), "VOICE_LOG_LEVEL": "INFO"}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "voice.cli", "worker", "--concurrency", "1"], cwd=ROOT,
                                env=env, stdout=out, stderr=out, start_new_session=True)


async def job_state(url: str, run_id: int) -> dict:
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        run = await conn.fetchrow("SELECT status, stage, progress, attempts FROM theme_run WHERE id = $1", run_id)
        job = await conn.fetchrow("SELECT id, status, attempts, worker_id FROM procrastinate_jobs "
                                  "WHERE task_name = 'voice.refresh_themes' AND (args->>'run_id')::int = $1", run_id)
        model = await conn.fetchrow("SELECT id, n_texts, created_at FROM theme_model WHERE is_current "
                                    "AND scope = 'feedback'")
        return {"run": dict(run) if run else None, "job": dict(job) if job else None,
                "model": dict(model) if model else None}
    finally:
        await conn.close()


async def wait_run(url: str, run_id: int, until: str, limit_s: float, min_progress: int = 0) -> tuple[float, dict]:
    start = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        state = await job_state(url, run_id)
        run = state["run"] or {}
        if run.get("status") == until and run.get("progress", 0) >= min_progress:
            return time.perf_counter() - start, state
        if run.get("status") == "failed" and until != "failed":
            break
        await asyncio.sleep(0.5)
    return float("nan"), await job_state(url, run_id)


async def retry_stalled(url: str) -> list[int]:
    """What an operator (or a periodic task) must do: re-queue the jobs of workers that died."""
    sys.path.insert(0, str(ROOT / "src"))
    from voice.jobs import open_jobs

    async with open_jobs(url=url) as app:
        stalled = list(await app.job_manager.get_stalled_jobs())
        for job in stalled:
            await app.job_manager.retry_job(job)
    return [j.id for j in stalled]


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if proc and proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def cmd_kill_worker(args: argparse.Namespace) -> bool:
    log = server_log("kill-worker")
    results: list[tuple[str, object]] = []
    ok = True
    workers: list[subprocess.Popen] = []
    with fresh_database() as url:
        _data.load_agencies(url)
        asyncio.run(_data.bulk_feedback(url, args.texts, agencies=[args.agency], days=60, texts=args.texts,
                                        code_prefix="W"))
        token = _data.create_staff(url, args.agency, "staff-bench@example.sa", "bench staff passphrase")
        auth = {"Authorization": f"Bearer {token}"}
        try:
            with running_server(url, workers=1, log_path=log) as (base, _proc), \
                    httpx.Client(base_url=base, headers=auth, timeout=30) as http:
                workers.append(start_worker(url, log))
                run1 = http.post("/api/v1/agency/themes/refresh").json()["job_id"]
                took, state = asyncio.run(wait_run(url, run1, "succeeded", args.timeout))
                results.append(("first refresh (worker 1), to succeeded (s)", round(took, 1)))
                before_themes = http.get("/api/v1/agency/themes").json()
                before_model = state["model"]
                results.append(("themes after the first refresh", f"{len(before_themes)} (model id "
                                                                    f"{before_model['id'] if before_model else None})"))

                # New feedback arrives, so the second fit has texts to embed (known ones are reused).
                asyncio.run(_data.bulk_feedback(url, args.more, agencies=[args.agency], days=7, code_prefix="X",
                                                seed=11))
                run2 = http.post("/api/v1/agency/themes/refresh").json()["job_id"]
                took, state = asyncio.run(wait_run(url, run2, "running", args.timeout, min_progress=args.kill_progress))
                time.sleep(args.kill_delay)
                mid = asyncio.run(job_state(url, run2))
                stop(workers[0], signal.SIGKILL)
                killed_at = time.perf_counter()
                results.append(("second refresh: SIGKILL of worker 1 at",
                                f"stage {mid['run']['stage']}, progress {mid['run']['progress']}% "
                                f"({took + args.kill_delay:.1f} s after it was queued)"))

                after = asyncio.run(job_state(url, run2))
                served = http.get("/api/v1/agency/themes")
                # The theme list (ids, labels, keywords, sizes) and the current model row must be untouched;
                # the per-window counts may move as time passes, so they are not compared.
                def core(themes: list[dict]) -> list[tuple]:
                    return sorted((t["id"], t["label"], tuple(t["keywords"]), t["size"], t["pinned"]) for t in themes)

                same_model = after["model"] == before_model
                same_themes = served.status_code == 200 and core(served.json()) == core(before_themes)
                ok &= same_model and same_themes
                results.append(("previous themes still served (GET /api/v1/agency/themes and the current "
                                "theme_model row unchanged)", "yes" if same_model and same_themes else
                                f"NO: HTTP {served.status_code}, model row unchanged {same_model}, "
                                f"theme list unchanged {same_themes}"))

                workers.append(start_worker(url, log))
                time.sleep(args.observe)
                waited = asyncio.run(job_state(url, run2))
                again = http.post("/api/v1/agency/themes/refresh").json()["job_id"]
                results.append((f"{args.observe} s after worker 2 started (before the script's own retry)",
                                f"run {waited['run']['status']} at {waited['run']['progress']}%, job "
                                f"{waited['job']['status']}; a new refresh request returns run {again} "
                                f"({'the stuck one' if again == run2 else 'a new one'})"))

                retried = asyncio.run(retry_stalled(url))
                retry_at = time.perf_counter()
                took, final = asyncio.run(wait_run(url, run2, "succeeded", args.timeout))
                finished = final["run"]["status"] == "succeeded" and final["model"] \
                    and final["model"]["id"] != before_model["id"]
                ok &= bool(finished)
                results.append(("get_stalled_jobs() + retry_job() re-queued jobs", retried))
                results.append(("second refresh finished by worker 2 after the retry (s)",
                                f"{took:.1f} (status {final['run']['status']}, attempts {final['run']['attempts']}, "
                                f"{retry_at - killed_at:.0f} s after the kill)"))
                themes_now = http.get("/api/v1/agency/themes")
                results.append(("themes served after the swap", f"{len(themes_now.json())} (model id "
                                                                 f"{final['model']['id'] if final['model'] else None})"))
        finally:
            for proc in workers:
                stop(proc)
    results.insert(0, ("agency, texts", f"{args.agency}: {args.texts} feedback items (demo bodies × endings), "
                                        f"{args.more} more before the second refresh"))
    report("kill-worker", command_line(), results)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, requests in (("load", 20000), ("kill-web", 4000), ("restart-db", 4000)):
        p = sub.add_parser(name)
        p.add_argument("--requests", type=int, default=requests)
        p.add_argument("--concurrency", type=int, default=100)
        p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
        if name != "load":
            p.add_argument("--kill-at", type=float, default=0.3, help="share of acknowledgements before the fault")
        if name == "kill-web":
            p.add_argument("--pause", type=float, default=1.0, help="seconds between the kill and the restart")
        if name == "restart-db":
            p.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL stays stopped")
    w = sub.add_parser("kill-worker")
    w.add_argument("--agency", default="passports")
    w.add_argument("--texts", type=int, default=1200)
    w.add_argument("--more", type=int, default=1500, help="new items added before the second refresh")
    w.add_argument("--kill-progress", type=int, default=5, help="kill once the run reports this progress")
    w.add_argument("--kill-delay", type=float, default=3.0, help="seconds to wait after that before the kill")
    w.add_argument("--observe", type=float, default=45.0, help="seconds to watch worker 2 before retrying")
    w.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    handler = {"load": cmd_load, "kill-web": cmd_kill_web, "restart-db": cmd_restart_db,
               "kill-worker": cmd_kill_worker}[args.command]
    sys.exit(0 if handler(args) else 1)


if __name__ == "__main__":
    main()
