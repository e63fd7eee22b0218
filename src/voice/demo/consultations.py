"""Demo consultations (voice/demo/data/consultations.json): one closed with its response report, one open,
with a few hundred comments from individuals, businesses and other agencies' staff, all written through
the same services as the pages and the API."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import UserService
from voice.catalogue.models import Agency
from voice.consultations.access import today
from voice.consultations.insights import ConsultationInsightService
from voice.consultations.models import Consultation, Stance
from voice.consultations.participation import ConsultationParticipationService
from voice.consultations.response import ArticleDecision, ConsultationResponseService
from voice.consultations.services import ArticleDraft, ConsultationDraft, ConsultationService

DATA = Path(__file__).parent / "data" / "consultations.json"
EXTRA_PARTICIPANTS = 60
STANCES = (Stance.SUPPORT, Stance.OPPOSE, Stance.SUGGEST)


async def _participants(session: AsyncSession, users: dict[str, User], data: dict[str, Any], password: str,
                        rng: random.Random) -> list[User]:
    """The demo's citizens and other agencies' staff, and more people who only took part in consultations."""
    people = [u for u in users.values() if u.role is Role.CITIZEN or u.role.is_agency]
    service = UserService(session=session)
    for i in range(EXTRA_PARTICIPANTS):
        first, family = rng.choice(data["first_names"]), rng.choice(data["family_names"])
        kind = SubmitterKind.BUSINESS if i % 4 == 0 else SubmitterKind.INDIVIDUAL
        email = f"participant{i:02d}@example.sa"
        user = await service.by_email(email) or await service.create_user(
            email=email, password=password, role=Role.CITIZEN, full_name=f"{first} {family}", kind=kind)
        user.display_name = first
        if kind is SubmitterKind.BUSINESS:
            user.organisation = data["businesses"][i // 4 % len(data["businesses"])]
        people.append(user)
    await session.flush()
    return people


def _text(data: dict[str, Any], article: dict[str, Any], stance: Stance, rng: random.Random) -> str:
    parts = [rng.choice(data["openers"][stance.value]), rng.choice(article["points"][stance.value]),
             rng.choice(data["closers"])]
    return " ".join(p for p in parts if p)


async def load_consultations(session: AsyncSession, users: dict[str, User], agencies: dict[str, Agency],
                             password: str, rng: random.Random) -> tuple[int, int]:
    """(consultations, comments) loaded."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    people = await _participants(session, users, data, password, rng)
    consultations = ConsultationService(session=session)
    participation = ConsultationParticipationService(session=session)
    total = 0
    for item in data["consultations"]:
        agency = agencies[item["agency"]]
        staff = next(u for u in users.values() if u.role.is_agency and u.agency_id == agency.id)
        opens = today() - timedelta(days=item["opened_days_ago"])
        closes = opens + timedelta(days=item.get("open_for_days", item["opened_days_ago"]))
        c = await consultations.create(staff, ConsultationDraft(
            title_ar=item["title_ar"], title_en=item["title_en"], summary_ar=item["summary_ar"],
            summary_en=item["summary_en"], audience=item["audience"], opens_on=opens.isoformat(),
            closes_on=closes.isoformat(),
            articles=[ArticleDraft(a["number"], a["title"], a["text"]) for a in item["articles"]]))
        await consultations.publish(staff, c.id)
        eligible = [p for p in people if p.agency_id != agency.id and p.role in (Role.CITIZEN, Role.AGENCY_STAFF)]
        weights = [sum(a["weights"]) for a in item["articles"]]
        views = []
        for person in eligible:
            chosen = {rng.choices(range(len(item["articles"])), weights=weights)[0] for _ in range(rng.randint(1, 5))}
            for index in sorted(chosen):
                article = item["articles"][index]
                stance = rng.choices(STANCES, weights=article["weights"])[0]
                views.append(await participation.comment(c.id, person, article["number"], stance.value,
                                                         _text(data, article, stance, rng)))
        for parent in rng.sample(views, k=min(len(views), 25)):
            replier = rng.choice([p for p in eligible if p.id != parent.author_id])
            views.append(await participation.reply(c.id, replier, parent.id, rng.choice(data["replies"])))
        total += len(views)
        if item["state"] == "reported":
            # The window ended some days ago: the demo moves its dates back, then the agency answers.
            await session.execute(update(Consultation).where(Consultation.id == c.id).values(
                opens_on=today() - timedelta(days=item["opened_days_ago"]),
                closes_on=today() - timedelta(days=item["closed_days_ago"])))
            await session.refresh(c)
            decisions = [ArticleDecision(a["number"], a["decision"], a.get("reason"), a.get("amended_text"))
                         for a in item["articles"] if a.get("decision")]
            decisions += [ArticleDecision(a["number"], "added", a["reason"], a["text"], a["title"])
                          for a in item.get("added", [])]
            await ConsultationResponseService(session=session).record(staff, c.id, decisions,
                                                                      summary=item.get("report_summary"))
        await ConsultationInsightService(session=session).refresh_themes(staff, c.id)
    return len(data["consultations"]), total
