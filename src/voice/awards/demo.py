"""Demo award data: a past edition judged and published (strict and lenient judges, so normalization matters)
and a current edition open for judging with agencies' and ideas' entries."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea, IdeaModeration
from voice.accounts.models import Role, User
from voice.awards.editions import EditionService
from voice.awards.judging import JudgingService
from voice.awards.lifecycle import EditionLifecycleService
from voice.awards.models import Branch, BranchCode, Edition, EditionStatus, Entry, JudgeAssignment
from voice.catalogue.models import Agency
from voice.settings import PACKAGE_ROOT

# How each demo judge's scores sit against an entry's merit: the strict ones far below, the lenient one above.
BIAS = {"strict": -3.0, "balanced": 0.0, "lenient": 2.5}

NARRATIVES = {
    BranchCode.E_PARTICIPATION: "نستقبل آراء المستفيدين عبر الموقع والتطبيق وواجهة البرمجة، ونجيب عنها ضمن مستوى "
                                "الخدمة المعلن، ونحوّل الموضوعات المتكررة إلى تحسينات منشورة في صفحة «قلتم وفعلنا».",
    BranchCode.G2C: "رقمنة رحلة المستفيد كاملة من التقديم إلى الاستلام، مع إشعارات فورية ومتابعة حالة الطلب.",
    BranchCode.SMART_DEVICES: "تطبيق جوال يقدّم أكثر الخدمات طلباً مع الدخول الموحد والتوقيع الإلكتروني.",
}


async def load_awards_demo(session: AsyncSession, users_by_email: dict[str, User], agencies_by_slug: dict[str, Agency],
                           rng: random.Random) -> int:
    """Load two editions; returns how many entries. Does nothing if award editions already exist."""
    if await session.scalar(select(Edition.id).limit(1)):
        return 0
    people = json.loads((PACKAGE_ROOT / "demo" / "data" / "people.json").read_text(encoding="utf-8"))
    admin = next(u for u in users_by_email.values() if u.role is Role.ADMIN)
    judges = [(users_by_email[j["email"]], j.get("note", "balanced")) for j in people["judges"]
              if j["email"] in users_by_email]
    editions = EditionService(session=session)
    judging = JudgingService(session=session)
    lifecycle = EditionLifecycleService(session=session)
    today = datetime.now(UTC).date()
    agencies = list(agencies_by_slug.values())

    past = await editions.create_edition(admin, {
        "number": "1", "name_ar": "الدورة الأولى", "name_en": "First edition",
        "opens_on": (today - timedelta(days=540)).isoformat(), "closes_on": (today - timedelta(days=420)).isoformat(),
        "evidence_from": (today - timedelta(days=730)).isoformat(),
        "evidence_to": (today - timedelta(days=366)).isoformat()})
    current = await editions.create_edition(admin, {
        "number": "2", "name_ar": "الدورة الثانية", "name_en": "Second edition",
        "opens_on": (today - timedelta(days=120)).isoformat(), "closes_on": (today - timedelta(days=10)).isoformat(),
        "evidence_from": (today - timedelta(days=365)).isoformat(), "evidence_to": today.isoformat()})
    count = 0
    ideas = list((await session.scalars(select(Idea).where(Idea.moderation != IdeaModeration.HIDDEN,
                                                           Idea.merged_into_id.is_(None)).order_by(Idea.id))).all())
    for edition, n_ideas in ((past, 6), (current, 0)):
        branches = {b.code: b for b in await editions.branches(edition.id)}
        for code, chosen in ((BranchCode.E_PARTICIPATION, agencies[:5]), (BranchCode.G2C, agencies[3:7]),
                             (BranchCode.SMART_DEVICES, agencies[6:9])):
            for agency in chosen:
                session.add(Entry(edition_id=edition.id, branch_id=branches[code].id, agency_id=agency.id,
                                  title=f"{NARRATIVES[code][:40]}…"[:200], narrative=NARRATIVES[code]))
                count += 1
        # The first edition's e-contribution entries are ideas of that time (chosen by hand back then).
        for idea in ideas[:n_ideas]:
            session.add(Entry(edition_id=edition.id, branch_id=branches[BranchCode.E_CONTRIBUTION].id,
                              idea_id=idea.id, author_id=idea.author_id, title=idea.title[:200],
                              narrative=idea.description_public))
            count += 1
        await session.flush()
        for branch in branches.values():
            if branch.code in (BranchCode.E_PARTICIPATION, BranchCode.E_CONTRIBUTION, BranchCode.G2C):
                for judge, _note in judges:
                    session.add(JudgeAssignment(edition_id=edition.id, branch_id=branch.id, judge_id=judge.id))
        await session.flush()

    # Past edition: judging, every judge scores most entries (not all: an incomplete design), then publish.
    # (Set directly: advancing would also enter today's accepted ideas in a past edition.)
    past.status = EditionStatus.JUDGING
    for branch in await editions.branches(past.id):
        await _score_branch(judging, session, branch, judges, rng, submit=True)
    await lifecycle.advance(admin, past.id, "results_published")
    past.published_at = datetime.now(UTC) - timedelta(days=400)

    # Current edition: open for judging (ideas accepted for evaluation are entered now); a few drafts saved.
    await lifecycle.advance(admin, current.id, "open_for_entries")
    await lifecycle.advance(admin, current.id, "judging")
    count += len((await session.scalars(select(Entry.id).where(Entry.edition_id == current.id,
                                                               Entry.idea_id.is_not(None)))).all())
    participation = await editions.branch_by_code(current.id, BranchCode.E_PARTICIPATION)
    await _score_branch(judging, session, participation, judges[:2], rng, submit=False)
    await session.flush()
    return count


async def _score_branch(judging: JudgingService, session: AsyncSession, branch: Branch,
                        judges: list[tuple[User, str]], rng: random.Random, submit: bool) -> None:
    entries = list((await session.scalars(select(Entry).where(Entry.branch_id == branch.id)
                                          .order_by(Entry.id))).all())
    assigned = set((await session.scalars(select(JudgeAssignment.judge_id).where(
        JudgeAssignment.branch_id == branch.id))).all())
    if not entries or not assigned:
        return
    merit = {e.id: rng.uniform(4.0, 9.0) for e in entries}
    for judge, note in judges:
        if judge.id not in assigned:
            continue
        keep = max(2, round(len(entries) * 0.75))
        for entry in sorted(rng.sample(entries, min(keep, len(entries))), key=lambda e: e.id):
            values = {}
            for c in branch.criteria:
                raw = merit[entry.id] + BIAS.get(note, 0.0) + rng.gauss(0, 0.8)
                values[f"score_{c.id}"] = str(max(0, min(c.scale_max, round(raw * c.scale_max / 10))))
                values[f"comment_{c.id}"] = ""
            await judging.save_scores(judge, entry.id, values, submit=submit)
