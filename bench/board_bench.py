"""Public board and agency workspace latency on a database of 1,000,000 feedback items.

    python bench/board_bench.py [--rows 1000000] [--requests 200]

Fills a throw-away database (BENCH_DATABASE_URL's server, else the embedded one in .data/bench) with
feedback made of the demo bodies combined with a few dozen endings (12,000 distinct Arabic texts,
public and search texts computed by the app's own helpers, then expanded by SQL), 10 agencies,
about 60% published, created over two years. The agency the staff member belongs to gets 30
themes covering 90% of its items, so the dashboard has figures to compute. The feedback table's
secondary indexes are dropped during the fill and re-created with their exact definitions, then
the table is vacuumed and analysed.

Then a real uvicorn server is started and each page is requested ``--requests`` times, one at a
time (latency, not throughput): the board's first page, one agency's board, a search for a
frequent and for a rare word, deep pages through the keyset cursor, and, signed in as agency staff
through the sign-in form (with its CSRF token), the dashboard `/agency` and the inbox
`/agency/inbox`. For each page the main query is also run under EXPLAIN ANALYZE; the plans go to
bench/out/board_plans.md. Results: bench/out/board.md.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlencode

import _data
import asyncpg
import httpx
from _server import ROOT, fresh_database, machine, percentile, running_server

OUT = ROOT / "bench" / "out"
STAFF_AGENCY = "passports"
STAFF_EMAIL = "staff-board@example.sa"
STAFF_PASSWORD = "board bench staff passphrase"  # noqa: S105  (a throw-away bench account)
TARGET_P95_MS = 100.0


async def fill(url: str, rows: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        indexes = await conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i "
            "WHERE i.indrelid = 'feedback'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
        for ix in indexes:
            await conn.execute(f'DROP INDEX "{ix["name"]}"')
    finally:
        await conn.close()

    t = time.perf_counter()
    inserted = 0
    batch = 250_000  # several statements: progress, and no single huge transaction
    while inserted < rows:
        inserted += await _data.bulk_feedback(url, min(batch, rows - inserted), seed=inserted // batch + 1)
        print(f"  {inserted:,} rows ({time.perf_counter() - t:.0f} s)", flush=True)
    timings["insert_s"] = time.perf_counter() - t

    conn = await asyncpg.connect(_data.libpq(url))
    try:
        t = time.perf_counter()
        agency_id = await conn.fetchval("SELECT id FROM agency WHERE slug = $1", STAFF_AGENCY)
        await conn.execute(
            "INSERT INTO theme (agency_id, scope, key, label, keywords, size, quality, pinned, renamed, retired, "
            "representative_ids, created_at, updated_at) SELECT $1, 'feedback', k::text, 'موضوع ' || k, "
            "'[]'::jsonb, 0, 0.5, k = 1, false, false, '[]'::jsonb, now(), now() FROM generate_series(1, 30) k",
            agency_id)
        await conn.execute(
            "UPDATE feedback f SET theme_id = t.ids[1 + floor(random() * 30)::int], theme_score = 0.8 "
            "FROM (SELECT array_agg(id ORDER BY id) AS ids FROM theme WHERE agency_id = $1) t "
            "WHERE f.agency_id = $1 AND random() < 0.9", agency_id)
        await conn.execute("UPDATE theme SET size = (SELECT count(*) FROM feedback WHERE theme_id = theme.id) "
                           "WHERE agency_id = $1", agency_id)
        timings["themes_s"] = time.perf_counter() - t

        t = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for ix in indexes:
            await conn.execute(ix["def"])
        timings["indexes_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) feedback")
        await conn.execute("ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        timings["table_mb"] = await conn.fetchval("SELECT pg_total_relation_size('feedback') / 1048576.0")
    finally:
        await conn.close()
    return timings


def words() -> tuple[str, str]:
    """A frequent and a rare word of the demo bodies (as people would type them)."""
    counts: Counter = Counter()
    for row in _data.demo_rows():
        counts.update(w for w in re.findall(r"[\u0621-\u064a]{4,}", row["body"]))
    common = [w for w, _ in counts.most_common(40) if w not in {"الخدمة"}]
    rare = [w for w, c in counts.items() if c == 2]
    return common[0], sorted(rare)[len(rare) // 2]


async def cursors(url: str, n: int = 20) -> list[str]:
    """Keyset cursors spread over the second half of the board (page ~10,000 and beyond)."""
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        total = await conn.fetchval("SELECT count(*) FROM feedback WHERE is_public")
        out = []
        for i in range(n):
            offset = total // 2 + i * (total // 2 - 1) // n
            row = await conn.fetchrow("SELECT created_at, id FROM feedback WHERE is_public "
                                      "ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1", offset)
            out.append(f"{row['created_at'].isoformat()}~{row['id']}")
        return out
    finally:
        await conn.close()


def sign_in(client: httpx.Client) -> None:
    page = client.get("/signin")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    csrf = token.group(1) if token else client.cookies["voice_csrf"]
    r = client.post("/signin", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "",
                                     "_csrf_token": csrf})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code} {r.text[:300]}")


def measure(client: httpx.Client, paths: list[str], n: int) -> tuple[list[float], Counter]:
    for path in paths[:3]:  # warm-up: template compilation, connection pool, caches
        client.get(path)
    latencies, statuses = [], Counter()
    for i in range(n):
        t = time.perf_counter()
        r = client.get(paths[i % len(paths)])
        latencies.append((time.perf_counter() - t) * 1000)
        statuses[r.status_code] += 1
    return latencies, statuses


def main_queries(agency_id: int, common: str, cursor: str) -> dict[str, tuple[str, list]]:
    """The main SQL of each page (as the app's SQLAlchemy statements produce them), with parameters."""
    from voice.text import query_terms

    stamp, _, ident = cursor.partition("~")
    # All columns, as the app loads whole rows: with `SELECT id` an index-only scan would hide the cost.
    board = "SELECT * FROM feedback WHERE is_public AND {} ORDER BY created_at DESC, id DESC LIMIT 21"
    open_statuses = "('received', 'in_review', 'in_progress')"
    return {
        "board": (board.format("true"), []),
        "board_agency": (board.format("agency_id = $1"), [agency_id]),
        "board_q_frequent": (board.format("search_vector @@ plainto_tsquery('simple', $1)"), [query_terms(common)]),
        "board_deep": (board.format("(created_at < $1 OR (created_at = $1 AND id < $2))"),
                       [datetime.fromisoformat(stamp), int(ident)]),
        # The same page with a row comparison, which the (created_at, id) index can serve directly.
        "board_deep_row_comparison": (board.format("(created_at, id) < ($1, $2)"),
                                      [datetime.fromisoformat(stamp), int(ident)]),
        "dashboard_counts": (
            "SELECT theme_id, count(*), count(*) FILTER (WHERE created_at >= now() - interval '7 days'), "
            "count(*) FILTER (WHERE created_at >= now() - interval '14 days' AND created_at < now() - interval '7 days'), "
            "count(*) FILTER (WHERE created_at >= now() - interval '30 days'), "
            "count(*) FILTER (WHERE created_at >= now() - interval '60 days' AND created_at < now() - interval '30 days'), "
            "avg(CASE WHEN kind = 'complaint' THEN 1.0 ELSE 0.0 END), avg(rating), "
            "count(*) FILTER (WHERE status IN " + open_statuses + " AND due_at < now()) "
            "FROM feedback WHERE agency_id = $1 AND theme_id IS NOT NULL GROUP BY theme_id", [agency_id]),
        "dashboard_weekly": (
            "SELECT theme_id, floor(extract(epoch FROM now() - created_at) / 604800) AS w, count(*) "
            "FROM feedback WHERE agency_id = $1 "
            "AND created_at >= now() - interval '12 weeks' AND theme_id IS NOT NULL GROUP BY theme_id, w",
            [agency_id]),
        "dashboard_unthemed": ("SELECT count(*) FROM feedback WHERE agency_id = $1 AND theme_id IS NULL", [agency_id]),
        "inbox_count": ("SELECT count(*) FROM feedback WHERE agency_id = $1", [agency_id]),
        "inbox_page": ("SELECT * FROM feedback WHERE agency_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50",
                       [agency_id]),
    }


async def explain(url: str, queries: dict[str, tuple[str, list]]) -> dict[str, tuple[float, str]]:
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        out = {}
        for name, (sql, params) in queries.items():
            await conn.fetch(sql, *params)  # warm
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params))
            found = re.search(r"Execution Time: ([\d.]+) ms", plan)
            out[name] = (float(found.group(1)) if found else float("nan"), plan)
        return out
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    common, rare = words()
    lines = [f"Machine: {machine()}. {args.rows:,} feedback rows; {args.requests} sequential requests per page "
             f"(uvicorn, {args.workers} workers). Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", ""]
    with fresh_database() as url:
        _data.load_agencies(url)
        _data.create_staff(url, STAFF_AGENCY, STAFF_EMAIL, STAFF_PASSWORD)
        t = time.perf_counter()
        timings = asyncio.run(fill(url, args.rows))
        timings["total_fill_s"] = time.perf_counter() - t
        print("fill:", {k: round(v, 1) for k, v in timings.items()}, flush=True)
        deep = asyncio.run(cursors(url))
        agency_id = asyncio.run(_agency_id(url))
        pages = {
            "/feedback (first page)": ["/feedback"],
            "/feedback?agency=passports": [f"/feedback?agency={STAFF_AGENCY}"],
            f"/feedback?q={common} (frequent word)": ["/feedback?" + urlencode({"q": common})],
            f"/feedback?q={rare} (rare word)": ["/feedback?" + urlencode({"q": rare})],
            "/feedback?cursor=… (deep pages, 20 cursors past the middle)":
                ["/feedback?" + urlencode({"cursor": c}) for c in deep],
        }
        staff_pages = {"/agency (dashboard, 30 themes)": ["/agency/"], "/agency/inbox": ["/agency/inbox"]}
        lines += ["| page | p50 ms | p95 ms | max ms | statuses | p95 ≤ 100 ms |", "|---|---:|---:|---:|---|---|"]
        with running_server(url, workers=args.workers) as (base, _proc):
            with httpx.Client(base_url=base, timeout=60) as client:
                for name, paths in pages.items():
                    lines.append(_row(name, *measure(client, paths, args.requests)))
                    print(lines[-1], flush=True)
            with httpx.Client(base_url=base, timeout=60) as staff:
                sign_in(staff)
                for name, paths in staff_pages.items():
                    lat, statuses = measure(staff, paths, args.requests)
                    lines.append(_row(name, lat, statuses))
                    print(lines[-1], flush=True)
        plans = asyncio.run(explain(url, main_queries(agency_id, common, deep[len(deep) // 2])))
    lines += ["", "Main queries alone (EXPLAIN ANALYZE execution time, warm cache):", "",
              "| query | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.2f} |" for name, (ms, _plan) in plans.items()]
    lines += ["", "Fill: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items())]
    OUT.mkdir(exist_ok=True)
    (OUT / "board.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "board_plans.md").write_text("\n\n".join(f"## {name} ({ms:.2f} ms)\n\n```\n{plan}\n```"
                                                    for name, (ms, plan) in plans.items()) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _row(name: str, latencies: list[float], statuses: Counter) -> str:
    p95 = percentile(latencies, 95)
    return (f"| {name} | {percentile(latencies, 50):.1f} | {p95:.1f} | {max(latencies):.1f} | "
            f"{dict(statuses)} | {'yes' if p95 <= TARGET_P95_MS else '**no**'} |")


async def _agency_id(url: str) -> int:
    conn = await asyncpg.connect(_data.libpq(url))
    try:
        return await conn.fetchval("SELECT id FROM agency WHERE slug = $1", STAFF_AGENCY)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
