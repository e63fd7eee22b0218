"""Themes over one consultation's comments: 5,000 comments on a 40-article draft, through the platform's
theme job (the same engine and code path as the staff button: request_refresh, then the job body
run_refresh, which loads the texts, fits nlp.ThemeModel with method "auto" and swaps the themes in), and
the staff insights page's query (stances, themes and representative comments per article).

Fills a throw-away database (BENCH_DATABASE_URL's server, else the embedded one in .data/bench). The
comments are inserted in bulk by SQL (their public text computed by the app's redactor once per distinct
text); the timing covers the theme run and the read, not the insertion.

Usage:  PYTHONPATH=src .venv/bin/python bench/consultation_themes_bench.py [--comments 5000] [--articles 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import timedelta

from _server import ROOT, fresh_database


async def run(url: str, comments: int, articles: int) -> dict[str, float]:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("VOICE_LOG_LEVEL", "WARNING")
    from sqlalchemy import func, insert, select

    from voice.accounts.models import Role, SubmitterKind, User
    from voice.accounts.services import UserService
    from voice.administration.catalogue import CatalogueAdminService
    from voice.consultations.access import today
    from voice.consultations.insights import ConsultationInsightService
    from voice.consultations.models import ConsultationComment, Stance
    from voice.consultations.services import ArticleDraft, ConsultationDraft, ConsultationService
    from voice.jobs import job_session
    from voice.text import public_text
    from voice.themes.models import Theme
    from voice.themes.services import run_refresh

    data = json.loads((ROOT / "src/voice/demo/data/consultations.json").read_text(encoding="utf-8"))
    bank = [a for c in data["consultations"] for a in c["articles"]]
    rng = random.Random(2026)
    people_needed = -(-comments // articles)
    async with job_session() as session:
        actor = User(role=Role.ADMIN, full_name="bench", email="bench@voice.local", is_active=True)
        agency = await CatalogueAdminService(session=session).create_agency(actor, {
            "slug": "bench", "name_ar": "جهة القياس", "name_en": "Bench agency", "sla_days": 5})
        staff = await UserService(session=session).create_user(
            email="staff@bench.sa", password=None, role=Role.AGENCY_STAFF, agency=agency, full_name="موظف")
        c = await ConsultationService(session=session).create(staff, ConsultationDraft(
            title_ar="مشروع لائحة للقياس", summary_ar="مشروع لائحة كبير لقياس سرعة استخراج المحاور.",
            opens_on=today().isoformat(), closes_on=(today() + timedelta(days=30)).isoformat(),
            articles=[ArticleDraft(n, bank[(n - 1) % len(bank)]["title"], bank[(n - 1) % len(bank)]["text"])
                      for n in range(1, articles + 1)]))
        await ConsultationService(session=session).publish(staff, c.id)
        people = (await session.execute(insert(User).returning(User.id), [
            {"email": f"p{i}@bench.sa", "password_hash": "!", "full_name": "مشارك", "role": Role.CITIZEN,
             "kind": SubmitterKind.INDIVIDUAL} for i in range(people_needed)])).scalars().all()
        redacted: dict[str, str] = {}
        rows = []
        for i in range(comments):
            article = c.articles[i % articles]
            source = bank[(article.number - 1) % len(bank)]
            stance = rng.choice(list(Stance))
            text = " ".join(p for p in (rng.choice(data["openers"][stance.value]),
                                        rng.choice(source["points"][stance.value]), rng.choice(data["closers"])) if p)
            if text not in redacted:
                redacted[text] = public_text(text)
            rows.append({"consultation_id": c.id, "article_id": article.id, "author_id": people[i // articles],
                         "author_kind": SubmitterKind.INDIVIDUAL, "stance": stance, "body": text,
                         "body_public": redacted[text], "hidden": False})
        await session.execute(insert(ConsultationComment), rows)
        run = await ConsultationInsightService(session=session).refresh_themes(staff, c.id)
        consultation_id, run_id, distinct = c.id, run.id, len(redacted)
    start = time.perf_counter()
    await run_refresh(run_id)
    refresh_s = time.perf_counter() - start
    async with job_session() as session:
        staff = await session.scalar(select(User).where(User.email == "staff@bench.sa"))
        start = time.perf_counter()
        view = await ConsultationInsightService(session=session).read(staff, consultation_id)
        read_s = time.perf_counter() - start
        themed = await session.scalar(select(func.count()).select_from(ConsultationComment).where(
            ConsultationComment.theme_id.is_not(None)))
        themes = await session.scalar(select(func.count()).select_from(Theme).where(Theme.retired.is_(False)))
    return {"comments": comments, "distinct_texts": distinct, "articles": articles, "themes": themes,
            "themed": themed, "refresh_s": refresh_s, "read_ms": read_s * 1000,
            "articles_with_themes": sum(1 for a in view.articles.values() if a.themes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--articles", type=int, default=40)
    args = parser.parse_args()
    with fresh_database() as url:
        result = asyncio.run(run(url, args.comments, args.articles))
    print(f"nproc {os.cpu_count()}; " + ", ".join(
        f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
