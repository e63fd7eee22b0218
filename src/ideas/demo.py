"""Demo ideas (voice/demo/data/ideas.json): authors, supporters, comments and lifecycle history."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea, IdeaComment, IdeaModeration, IdeaStatus, IdeaStatusEvent, IdeaVote
from ideas.services import IdeaDraft, IdeaService
from voice.accounts.models import Role, SubmitterKind, User
from voice.catalogue.models import Agency

DATA = Path(__file__).resolve().parents[1] / "voice" / "demo" / "data" / "ideas.json"

# The steps an idea took to reach its demo status (each one becomes a history entry).
PATHS: dict[str, list[IdeaStatus]] = {
    "submitted": [],
    "under_review": [IdeaStatus.UNDER_REVIEW],
    "accepted_for_evaluation": [IdeaStatus.UNDER_REVIEW, IdeaStatus.ACCEPTED_FOR_EVALUATION],
    "shortlisted": [IdeaStatus.UNDER_REVIEW, IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.SHORTLISTED],
    "winner": [IdeaStatus.UNDER_REVIEW, IdeaStatus.ACCEPTED_FOR_EVALUATION, IdeaStatus.SHORTLISTED,
               IdeaStatus.WINNER],
    "adopted": [IdeaStatus.UNDER_REVIEW, IdeaStatus.ADOPTED],
    "implemented": [IdeaStatus.UNDER_REVIEW, IdeaStatus.ADOPTED, IdeaStatus.IMPLEMENTED],
    "declined": [IdeaStatus.UNDER_REVIEW, IdeaStatus.DECLINED],
}
COMMENTS = [
    "فكرة ممتازة، عانيت من نفس المشكلة الشهر الماضي.",
    "أؤيدها بشدة، وأقترح أن تكون متاحة في تطبيق الجوال أيضاً.",
    "هل تم التفكير في كبار السن ومن لا يستخدمون التطبيقات؟",
    "الفكرة جميلة لكن تحتاج ربطاً مع أنظمة الجهات الأخرى.",
    "Great idea, this would save a lot of time.",
    "جربت شيئاً مشابهاً في دولة أخرى وكان فعالاً جداً.",
]
REPLIES = [
    "صحيح، ويمكن إضافة خيار الرسائل النصية لهم.",
    "أتفق معك، الربط بين الجهات هو الأساس.",
    "شكراً على الملاحظة، سأضيفها في وصف الفكرة.",
]
ANSWERS = {
    IdeaStatus.ADOPTED: "تبنّت الجهة الفكرة وأدرجتها في خطة تطوير الخدمة للربع القادم.",
    IdeaStatus.IMPLEMENTED: "نُفّذت الفكرة وأصبحت متاحة في الخدمة، شكراً لصاحبها.",
    IdeaStatus.DECLINED: "الفكرة مطبقة حالياً في خدمة أخرى، ولا حاجة إلى تكرارها.",
}


async def load_ideas(session: AsyncSession, users_by_email: dict[str, User], agencies_by_slug: dict[str, Agency],
                     rng: random.Random) -> int:
    """Load the demo ideas; returns how many. Expects the demo people and agencies to be loaded."""
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    citizens = [u for u in users_by_email.values() if u.role is Role.CITIZEN]
    by_kind = {kind: [u for u in citizens if u.kind is kind] for kind in SubmitterKind}
    admins = [u for u in users_by_email.values() if u.role is Role.ADMIN]
    staff = {a.id: [u for u in users_by_email.values() if u.agency_id == a.id] for a in agencies_by_slug.values()}
    service = IdeaService(session=session)
    now = datetime.now(UTC)
    count = 0
    for row in rows:
        pool = by_kind.get(SubmitterKind(row["author_kind"])) or citizens
        author = rng.choice(pool)
        idea = await service.submit(IdeaDraft(
            title=row["title"], description=row["description"], problem=row.get("problem") or "",
            category=row["category"], agency=row.get("agency"), service=row.get("service")), author)
        if not idea.held_for_review:  # the demo shows published ideas whatever the moderation mode
            idea.moderation, idea.is_public = IdeaModeration.VISIBLE, True
        created = now - timedelta(days=row["days_ago"], hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        idea.created_at = created
        for event in (await session.scalars(select(IdeaStatusEvent).where(IdeaStatusEvent.idea_id == idea.id))).all():
            event.created_at = created
        _history(session, idea, row, created, now, agencies_by_slug, staff, admins, rng)
        others = [u for u in citizens if u.id != author.id]
        _votes(session, idea, others, row["status"], rng)
        await _comments(session, idea, others, created, now, rng)
        count += 1
    await session.flush()
    return count


def _history(session: AsyncSession, idea: Idea, row: dict, created: datetime, now: datetime,
             agencies: dict[str, Agency], staff: dict[int, list[User]], admins: list[User],
             rng: random.Random) -> None:
    steps = PATHS[row["status"]]
    if not steps:
        return
    span = max((now - created).total_seconds() - 3600, 3600)
    moments = sorted(created + timedelta(seconds=rng.uniform(3600, span)) for _ in steps)
    previous = IdeaStatus.SUBMITTED
    adopter = agencies.get(row.get("agency") or "") or rng.choice(list(agencies.values()))
    for target, at in zip(steps, moments, strict=True):
        agency = adopter if target in (IdeaStatus.ADOPTED, IdeaStatus.IMPLEMENTED) else None
        members = staff.get(agency.id, []) if agency else []
        actor = rng.choice(members) if members else (rng.choice(admins) if admins else None)
        answer = ANSWERS.get(target)
        note = answer if target is IdeaStatus.DECLINED else None
        session.add(IdeaStatusEvent(idea_id=idea.id, kind="status", from_status=previous.value,
                                    to_status=target.value, actor_id=actor.id if actor else None,
                                    agency_id=agency.id if agency else None, note=note,
                                    answer=None if note else answer, created_at=at))
        if target is IdeaStatus.ADOPTED:
            idea.adopted_by_agency_id = adopter.id
        if target is IdeaStatus.DECLINED:
            idea.decline_reason = note
        if answer and not note:
            idea.answer, idea.answer_agency_id = answer, adopter.id
        previous = target
    idea.status = previous


def _votes(session: AsyncSession, idea: Idea, others: list[User], status: str, rng: random.Random) -> None:
    popular = status in ("winner", "shortlisted", "adopted", "implemented")
    voters = rng.sample(others, min(len(others), rng.randint(4, 12) if popular else rng.randint(0, 6)))
    for voter in voters:
        session.add(IdeaVote(idea_id=idea.id, user_id=voter.id))
    idea.votes = len(voters)


async def _comments(session: AsyncSession, idea: Idea, others: list[User], created: datetime, now: datetime,
                    rng: random.Random) -> None:
    if not others or rng.random() < 0.4:
        return
    at = created + (now - created) * rng.uniform(0.1, 0.6)
    text = rng.choice(COMMENTS)
    parent = IdeaComment(idea_id=idea.id, author_id=rng.choice(others).id, body=text, body_public=text,
                         created_at=at)
    session.add(parent)
    idea.comments_count = 1
    if rng.random() < 0.5:
        await session.flush()  # the reply needs its parent's id
        reply = rng.choice(REPLIES)
        session.add(IdeaComment(idea_id=idea.id, parent_id=parent.id, author_id=rng.choice(others).id, body=reply,
                                body_public=reply, created_at=at + timedelta(hours=rng.randint(1, 48))))
        idea.comments_count = 2
