"""Shared data helpers for the benchmarks: demo agencies, staff accounts, bulk feedback by SQL.

Bulk feedback is built from the demo bodies (src/voice/demo/data/feedback.json): a few hundred real
Arabic texts, each combined with one of a few dozen endings to give thousands of distinct texts.
The app's own helpers compute the public (redacted) text and the search text of each distinct
text once; PostgreSQL then expands them to any number of rows with generate_series.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import asyncpg
from _server import ROOT

DEMO = ROOT / "src" / "voice" / "demo" / "data"

# Endings that make a demo body into a new, still natural, text.
ENDINGS = [
    "", "أرجو الحل بسرعة", "وهذه ثاني مرة", "مع الشكر", "الموضوع متكرر", "منذ أسبوع", "في الرياض",
    "في جدة", "في الدمام", "في مكة", "في المدينة", "في أبها", "في تبوك", "عبر التطبيق", "عبر الموقع",
    "بعد التحديث الأخير", "في نهاية الشهر", "صباح اليوم", "في وقت الذروة", "أكثر من مرة",
    "ولم أجد رداً", "وأتمنى التحسين", "وهذا مزعج", "وشكراً لكم", "ولدي أطفال", "وأنا كبير في السن",
    "وكنت مستعجلاً", "أرجو المتابعة", "ولا يوجد بديل", "وقد راجعت الفرع",
]

def libpq(url: str) -> str:
    return "postgresql://" + url.partition("://")[2]


def voice_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "VOICE_LOG_LEVEL": "WARNING"}


def load_agencies(url: str) -> None:
    """The ten demo agencies and their services, through the app's own service."""
    code = ("import asyncio\nfrom voice.cli import _with_session\nfrom voice.demo.loader import read\n"
            "from voice.catalogue.services import AgencyService\n"
            "async def work(s):\n    for a in read('agencies.json'):\n        await AgencyService(session=s).upsert(a)\n"
            "asyncio.run(_with_session(work))\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=voice_env(url))


def create_staff(url: str, agency: str, email: str, password: str) -> str:
    """An agency_staff account; returns its API token (printed by `voice user create --token`)."""
    out = subprocess.run([sys.executable, "-m", "voice.cli", "user", "create", "--email", email, "--password",
                          password, "--role", "agency_staff", "--agency", agency, "--token"],
                         check=True, cwd=ROOT, env=voice_env(url), capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def demo_rows() -> list[dict]:
    return json.loads((DEMO / "feedback.json").read_text(encoding="utf-8"))


@functools.cache
def distinct_texts(limit: int | None = None) -> list[tuple[str, str, str]]:
    """(body, body_public, search_text) for demo bodies × endings, computed by the app's helpers."""
    sys.path.insert(0, str(ROOT / "src"))
    from voice.text import public_text, search_text

    bodies = list(dict.fromkeys(r["body"] for r in demo_rows()))
    out = []
    for ending in ENDINGS:
        for body in bodies:
            text = f"{body} {ending}".strip() if ending else body
            public = public_text(text)
            out.append((text, public, search_text(public)))
            if limit and len(out) >= limit:
                return out
    return out


async def bulk_feedback(url: str, n: int, *, agencies: list[str] | None = None, days: int = 730,
                        public_share: float = 0.6, texts: int | None = None, seed: int = 7,
                        code_prefix: str = "B") -> int:
    """Insert ``n`` feedback rows by SQL, spread over ``days`` days and the given agencies (default all)."""
    rows = distinct_texts(texts)
    conn = await asyncpg.connect(libpq(url))
    try:
        await conn.execute("SELECT setseed($1)", (seed % 1000) / 1000)
        await conn.execute("CREATE TEMP TABLE bench_text (i int PRIMARY KEY, body text, body_public text, "
                           "search_text text)")
        await conn.copy_records_to_table("bench_text", records=[(i, *r) for i, r in enumerate(rows)])
        picks = await conn.fetch(
            "SELECT a.id, array_remove(array_agg(s.id ORDER BY s.id), NULL) AS services FROM agency a "
            "LEFT JOIN service s ON s.agency_id = a.id WHERE $1::text[] IS NULL OR a.slug = ANY($1::text[]) "
            "GROUP BY a.id ORDER BY a.id", agencies)
        await conn.execute("CREATE TEMP TABLE bench_agency (k int PRIMARY KEY, agency_id bigint, services bigint[])")
        await conn.copy_records_to_table("bench_agency", records=[(k, r["id"], r["services"])
                                                                  for k, r in enumerate(picks)])
        start = await conn.fetchval("SELECT coalesce(max(id), 0) FROM feedback")
        sql = """
        INSERT INTO feedback (tracking_code, agency_id, service_id, kind, submitter_kind, channel, body,
            body_public, search_text, rating, publish, moderation, is_public, status, supporters, due_at,
            first_response_at, resolved_at, language, created_at, updated_at)
        SELECT $4 || lpad((g + $5)::text, 11, '0'), a.agency_id,
               a.services[1 + (h / 468000) % (cardinality(a.services) + 1)],
               (ARRAY['complaint','complaint','suggestion','praise','question'])[1 + h % 5],
               (ARRAY['individual','individual','individual','business','government'])[1 + (h / 5) % 5],
               (ARRAY['web','web','api','mobile'])[1 + (h / 25) % 4],
               t.body, t.body_public, t.search_text,
               CASE WHEN (h / 100) % 4 = 0 THEN NULL ELSE 1 + (h / 400) % 5 END,
               pub, 'visible', pub, st, ((h / 2000) % 13) * ((h / 26000) % 3), c + interval '5 days',
               CASE WHEN st <> 'received' THEN c + interval '30 hours' END,
               CASE WHEN st IN ('resolved', 'declined') THEN c + interval '4 days' END,
               'ar', c, c
          FROM (SELECT g, now() - random() * ($2 || ' days')::interval AS c, random() < $3 AS pub,
                       floor(random() * 1e9)::bigint AS h
                  FROM generate_series(1, $1) AS g) AS r
          JOIN bench_agency a ON a.k = g % $6
          JOIN bench_text t ON t.i = h % $7
          CROSS JOIN LATERAL (SELECT CASE WHEN c > now() - interval '20 days' THEN
                 (ARRAY['received','received','in_review','in_progress'])[1 + (h / 78000) % 4]
               ELSE (ARRAY['resolved','resolved','resolved','declined','in_progress','received'])[1 + (h / 78000) % 6]
               END AS st) AS s
        """
        status = await conn.execute(sql, n, str(days), public_share, code_prefix, start,
                                    len(picks), len(rows))
        return int(status.split()[-1])
    finally:
        await conn.close()

