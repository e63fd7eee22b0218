"""Load the demo data set (written for this project, see data/) into an empty database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import Role, SubmitterKind, User
from voice.accounts.services import UserService
from voice.catalogue.models import Agency
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Channel, Event, Response, Status
from voice.feedback.rules import due_at

DATA = Path(__file__).parent / "data"
# Every demo account signs in with this password (printed by `voice demo load`). Demo only.
DEMO_PASSWORD = "voice-demo-password"  # noqa: S105  (demo data only, printed on load)


def read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def load_demo(session: AsyncSession, *, force: bool = False) -> str:
    existing = await session.scalar(select(func.count()).select_from(Agency))
    if existing and not force:
        return "demo data: the database already has data; nothing loaded"
    rng = random.Random(2026)  # noqa: S311  (the same demo every time; not security)
    agencies = {a.slug: a for a in [await _agency(session, item) for item in read("agencies.json")]}
    users = await _people(session, agencies)
    items, by_issue = await _feedback(session, agencies, users, rng)
    improvements = await _improvements(session, agencies, by_issue)
    from ideas.demo import load_ideas

    ideas = await load_ideas(session, users, agencies, rng)
    from voice.awards.demo import load_awards_demo

    entries = await load_awards_demo(session, users, agencies, rng)
    from voice.demo.consultations import load_consultations

    consultations, consultation_comments = await load_consultations(session, users, agencies, DEMO_PASSWORD, rng)
    # Themes are found by the job worker (in-process under `make run`) a few seconds after start.
    from voice.themes.services import request_refresh

    for agency in agencies.values():
        await request_refresh(session, agency.id, None)
    await request_refresh(session, None, None, scope="ideas")
    return (f"demo data: {len(agencies)} agencies, {len(users)} accounts, {items} feedback items, "
            f"{improvements} improvements, {ideas} ideas, {entries} award entries (a past edition with "
            f"published results and a current one in judging), {consultations} public consultations with "
            f"{consultation_comments} comments (one closed with its response report, one open); theme "
            f"discovery queued for every agency and consultation. "
            f"Demo accounts (e.g. {read('people.json')['admin']['email']}) use the password {DEMO_PASSWORD!r}.")


async def _agency(session: AsyncSession, item: dict[str, Any]) -> Agency:
    """An agency and its e-services, through the service the administration pages use."""
    from voice.administration.catalogue import CatalogueAdminService

    catalogue = CatalogueAdminService(session=session)
    actor = User(role=Role.ADMIN, full_name="Voice demo", email="demo@voice.local", is_active=True)
    fields = ("slug", "name_ar", "name_en", "description_ar", "description_en", "sla_days", "contact_email")
    agency = await catalogue.create_agency(actor, {k: item[k] for k in fields if k in item})
    for service in item.get("services", []):
        await catalogue.add_service(actor, agency.slug, service)
    await session.refresh(agency, ["services"])
    return agency


async def _people(session: AsyncSession, agencies: dict[str, Agency]) -> dict[str, User]:
    people = read("people.json")
    service = UserService(session=session)
    out: dict[str, User] = {}

    async def add(email: str, name: str, role: Role, agency: Agency | None = None,
                  kind: SubmitterKind = SubmitterKind.INDIVIDUAL, **extra: Any) -> None:
        user = await service.by_email(email) or await service.create_user(
            email=email, password=DEMO_PASSWORD, role=role, full_name=name, agency=agency, kind=kind)
        for key, value in extra.items():
            setattr(user, key, value)
        out[user.email] = user

    admin = people["admin"]
    await add(admin["email"], admin["name"], Role.ADMIN)
    for person in people["staff"]:
        await add(person["email"], person["name"], Role(person["role"]), agencies[person["agency"]])
    for person in people["judges"]:
        await add(person["email"], person["name"], Role.JUDGE)
    for person in people["citizens"]:
        kind = SubmitterKind(person["kind"])
        # Public pages show a display name; the demo's citizens chose their first name.
        await add(person["email"], person["name"], Role.CITIZEN, kind=kind, cr_number=person.get("cr_number"),
                  display_name=person["name"].split()[0])
    await session.flush()
    return out


async def _feedback(session: AsyncSession, agencies: dict[str, Agency], users: dict[str, User],
                    rng: random.Random) -> tuple[int, dict[str, list[int]]]:
    service = IntakeService(session)
    staff = {a.id: [u for u in users.values() if u.agency_id == a.id] for a in agencies.values()}
    now = datetime.now(UTC)
    count = 0
    by_issue: dict[str, list[int]] = {}  # the data set's own issue key -> feedback ids
    for row in read("feedback.json"):
        agency = agencies[row["agency"]]
        item = await service.submit(Submission(
            agency=row["agency"], service=row.get("service"), kind=row["kind"],
            submitter_kind=row["submitter_kind"], body=row["body"], rating=row.get("rating"),
            contact_email=row.get("contact_email"), publish=row.get("publish", False),
            channel=rng.choice([Channel.WEB, Channel.WEB, Channel.MOBILE, Channel.API]),
        ))
        created = now - timedelta(days=row["days_ago"], hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        item.created_at = created
        item.due_at = due_at(created, agency.sla_days)
        events = list((await session.scalars(select(Event).where(Event.feedback_id == item.id))).all())
        for event in events:
            event.created_at = created
        target = Status(row["status"])
        actor = rng.choice(staff[agency.id]) if staff[agency.id] else None
        answered_at = created + timedelta(hours=rng.randint(2, 24 * (agency.sla_days + 3)))
        if answered_at > now:
            answered_at = now - timedelta(minutes=5)
        if row.get("answer_ar"):
            session.add(Response(feedback_id=item.id, agency_id=agency.id, author_id=actor.id if actor else None,
                                 body=row["answer_ar"], public=bool(row.get("publish")), created_at=answered_at))
            session.add(Event(feedback_id=item.id, kind="answer", actor_id=actor.id if actor else None,
                              agency_id=agency.id, created_at=answered_at))
            item.first_response_at = answered_at
        if target is not Status.RECEIVED:
            reason = row.get("answer_ar") if target is Status.DECLINED else None
            session.add(Event(feedback_id=item.id, kind="status", from_status="received", to_status=target.value,
                              actor_id=actor.id if actor else None, agency_id=agency.id, note=reason,
                              created_at=answered_at + timedelta(minutes=1)))
            item.status = target
            if target.is_closed:
                item.resolved_at = answered_at + timedelta(minutes=1)
                if rng.random() < 0.6:
                    item.satisfaction = rng.choice([2, 3, 4, 4, 5, 5])
                    item.satisfaction_at = item.resolved_at + timedelta(hours=3)
        if row.get("theme_key"):
            by_issue.setdefault(row["theme_key"], []).append(item.id)
        count += 1
    await session.flush()
    return count, by_issue


async def _improvements(session: AsyncSession, agencies: dict[str, Agency], by_issue: dict[str, list[int]]) -> int:
    """The agencies' "you said, we did" records, linked to the feedback of the issue each answers."""
    from sqlalchemy.dialects.postgresql import insert

    from voice.workspace.models import Improvement, ImprovementKind, ImprovementStatus, improvement_feedback

    today = datetime.now(UTC).date()
    rows = read("improvements.json")
    for row in rows:
        status = ImprovementStatus(row["status"])
        imp = Improvement(
            agency_id=agencies[row["agency"]].id, kind=ImprovementKind(row["kind"]), title=row["title_ar"],
            description=row.get("description_ar", ""), status=status,
            delivered_on=today - timedelta(days=row["days_ago_delivered"])
            if status is ImprovementStatus.DELIVERED and row.get("days_ago_delivered") is not None else None)
        session.add(imp)
        await session.flush()
        linked = by_issue.get(row.get("theme_key") or "", [])
        if linked:
            await session.execute(insert(improvement_feedback).values(
                [{"improvement_id": imp.id, "feedback_id": f} for f in linked]).on_conflict_do_nothing())
    return len(rows)
