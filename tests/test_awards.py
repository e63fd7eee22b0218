"""Award judging and evidence through HTTP: conflicts of interest hide entries everywhere, blind judging hides
names, normalization fixes a ranking, submissions are final, publishing freezes results, every dossier figure
matches hand-counted records and opens exactly them, and nobody sees what is not theirs."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea, IdeaCategory, IdeaStatus, IdeaStatusEvent
from tests.conftest import post_form
from tests.factories import PASSWORD, make_agency, make_token, make_user
from voice.accounts.models import Role, SubmitterKind, User
from voice.awards.editions import EditionService
from voice.awards.entries import EntryService
from voice.awards.judging import JudgingService
from voice.awards.lifecycle import EditionLifecycleService
from voice.awards.models import BranchCode, Edition, EditionStatus, Entry, ResultSnapshot, ScoreHistory
from voice.feedback.models import Channel, Feedback, FeedbackKind, Response
from voice.themes.models import Theme
from voice.workspace.models import (
    Improvement,
    ImprovementKind,
    ImprovementStatus,
    improvement_feedback,
    improvement_theme,
)

PEOPLE = json.loads((Path(__file__).resolve().parents[1] / "src/voice/demo/data/people.json").read_text())
AUTHOR = "سلمى عبدالعزيز المؤلفة"
AUTHOR_DISPLAY = "سلمى ع."  # the display name public pages show (never the legal name)
AGENCY_AR = "هيئة الاختبار السرية"


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    assert (await post_form(client, "/signin", {"email": email, "password": PASSWORD})).status_code == 303


async def new_edition(db: AsyncSession, admin: User, number: int = 2,
                      status: EditionStatus = EditionStatus.OPEN_FOR_ENTRIES) -> Edition:
    edition = await EditionService(session=db).create_edition(admin, {
        "number": str(number), "name_ar": f"الدورة {number}", "name_en": f"Edition {number}",
        "opens_on": "2025-01-01", "closes_on": "2025-12-31", "evidence_from": "2025-01-01",
        "evidence_to": "2025-12-31"})
    edition.status = status
    await db.commit()
    return edition


async def make_idea(db: AsyncSession, author: User, title: str, agency_id: int | None = None,
                    status: IdeaStatus = IdeaStatus.ACCEPTED_FOR_EVALUATION) -> Idea:
    idea = Idea(title=title, description="وصف الفكرة بالتفصيل لتحسين الخدمة", description_public="وصف الفكرة بالتفصيل",
                problem="مشكلة", problem_public="مشكلة", author_id=author.id, author_kind=SubmitterKind.INDIVIDUAL,
                agency_id=agency_id, category=IdeaCategory.DIGITAL_SERVICES, status=status, is_public=True)
    db.add(idea)
    await db.commit()
    return idea


async def judging_setup(db: AsyncSession, n_ideas: int = 3):
    """An edition in judging with ideas entered in e-contribution and two judges assigned there."""
    admin = await make_user(db, Role.ADMIN)
    agency = await make_agency(db, name_ar=AGENCY_AR, name_en="Secret Test Authority")
    author = await make_user(db, Role.CITIZEN)
    author.full_name, author.display_name = AUTHOR, AUTHOR_DISPLAY
    await db.commit()
    ideas = [await make_idea(db, author, f"فكرة رقم {i}", agency.id) for i in range(n_ideas)]
    edition = await new_edition(db, admin)
    lifecycle = EditionLifecycleService(session=db)
    editions = EditionService(session=db)
    # These tests score entries with one or two judges; the minimum for a rank is tested in test_blind_judging.
    await editions.set_min_judges(admin, edition.id, "1")
    await lifecycle.advance(admin, edition.id, "judging")  # enters the ideas
    judges = [await make_user(db, Role.JUDGE) for _ in range(2)]
    branch = await editions.branch_by_code(edition.id, BranchCode.E_CONTRIBUTION)
    for j in judges:
        await editions.assign_judge(admin, branch.id, j.email)
    await db.commit()
    entries = (await db.scalars(select(Entry).where(Entry.branch_id == branch.id).order_by(Entry.id))).all()
    assert [e.idea_id for e in entries] == [i.id for i in ideas]
    return admin, agency, author, ideas, edition, branch, judges, list(entries)


def entry_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-testid="judge-entry" data-entry="(\d+)"', html)}


def fill(branch, value: int, action: str = "save") -> dict[str, str]:
    return {**{f"score_{c.id}": str(value) for c in branch.criteria}, "action": action}


async def test_conflict_of_interest_hides_the_entry_everywhere(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, _agency, _author, _ideas, edition, branch, (judge, other), entries = await judging_setup(db)
    await sign_in(client, judge.email)
    home = await client.get("/awards/judging")
    assert entry_ids(home.text) == {e.id for e in entries}
    target = entries[1]
    assert (await post_form(client, f"/awards/judging/entries/{target.id}", fill(branch, 5))).status_code == 303
    declared = await post_form(client, f"/awards/judging/editions/{edition.id}/conflicts",
                               {"entry": str(target.id), "reason": "أعرف صاحب الفكرة"})
    assert declared.status_code == 303
    home = await client.get("/awards/judging")
    assert entry_ids(home.text) == {entries[0].id, entries[2].id}
    assert (await client.get(f"/awards/judging/entries/{target.id}")).status_code == 404
    assert (await post_form(client, f"/awards/judging/entries/{target.id}", fill(branch, 9))).status_code == 404
    # Every judge submits, the admin publishes: the conflicted entry is not in this judge's results at all.
    judging = JudgingService(session=db)
    lifecycle = EditionLifecycleService(session=db)
    for e in entries:
        await judging.save_scores(other, e.id, fill(branch, 3 + e.id % 5), submit=True)
    for e in (entries[0], entries[2]):
        await judging.save_scores(judge, e.id, fill(branch, 2 + e.id % 3), submit=True)
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(ResultSnapshot)) == 0
    await lifecycle.advance(admin, edition.id, "results_published")
    await db.commit()
    results = await client.get(f"/awards/editions/{edition.id}/results?branch=e_contribution")
    assert results.status_code == 200
    shown = {int(x) for x in re.findall(r'data-testid="rank-row" data-entry="(\d+)"', results.text)}
    assert shown == {entries[0].id, entries[2].id}
    assert (await client.get(f"/awards/results/{target.id}")).status_code == 404
    assert (await client.get(f"/awards/results/{entries[0].id}")).status_code == 200
    token = await make_token(db, judge)
    api = await client.get(f"/api/v1/awards/editions/{edition.id}/ranking?branch=e_contribution",
                           headers={"Authorization": f"Bearer {token}"})
    assert {r["entry_id"] for r in api.json()["entries"]} == {entries[0].id, entries[2].id}


async def test_agency_conflict_hides_agency_entries(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    a1, a2 = await make_agency(db), await make_agency(db)
    edition = await new_edition(db, admin)
    entries = EntryService(session=db)
    lifecycle = EditionLifecycleService(session=db)
    editions = EditionService(session=db)
    for a in (a1, a2):
        boss = await make_user(db, Role.AGENCY_ADMIN, agency=a)
        await entries.enter(boss, edition.id, {"branch": "g2c", "title": "بوابة الخدمات الموحدة",
                                               "narrative": "وصف مشاركتنا في فرع خدمة الأفراد بالتفصيل."})
    await lifecycle.advance(admin, edition.id, "judging")
    judge = await make_user(db, Role.JUDGE)
    branch = await editions.branch_by_code(edition.id, BranchCode.G2C)
    await editions.assign_judge(admin, branch.id, judge.email)
    await db.commit()
    await sign_in(client, judge.email)
    assert len(entry_ids((await client.get("/awards/judging")).text)) == 2
    assert (await post_form(client, f"/awards/judging/editions/{edition.id}/conflicts",
                            {"agency": a1.slug, "reason": "عملت فيها"})).status_code == 303
    e1 = await db.scalar(select(Entry).where(Entry.agency_id == a1.id))
    e2 = await db.scalar(select(Entry).where(Entry.agency_id == a2.id))
    assert entry_ids((await client.get("/awards/judging")).text) == {e2.id}
    assert (await client.get(f"/awards/judging/entries/{e1.id}")).status_code == 404
    # ... and the agency's dossier for this edition. Dossiers by agency are for judges of the
    # participation branch only (and only while it is not blind).
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{a2.slug}")).status_code == 404
    participation = await editions.branch_by_code(edition.id, BranchCode.E_PARTICIPATION)
    await editions.assign_judge(admin, participation.id, judge.email)
    await db.commit()
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{a1.slug}")).status_code == 404
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{a2.slug}")).status_code == 200
    participation.blind = True  # blind judges reach dossiers only through entries, nameless
    await db.commit()
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{a2.slug}")).status_code == 404


async def test_blind_judging_hides_author_and_agency_names(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, agency, _author, ideas, edition, branch, (judge, _other), entries = await judging_setup(db)
    assert branch.blind  # e-contribution is blind by default
    ideas[0].answer, ideas[0].answer_agency_id, ideas[0].adopted_by_agency_id = "سندرس الفكرة", agency.id, agency.id
    db.add(IdeaStatusEvent(idea_id=ideas[0].id, kind="status", agency_id=agency.id, answer="سندرس الفكرة",
                           public=True))
    await db.commit()
    await sign_in(client, judge.email)
    pages = [await client.get("/awards/judging"), await client.get(f"/awards/judging/entries/{entries[0].id}")]
    for page in pages:
        assert page.status_code == 200
        for secret in (AUTHOR, AUTHOR_DISPLAY, AGENCY_AR, agency.name_en, agency.slug):
            assert secret not in page.text
    assert "سندرس الفكرة" in pages[1].text and ideas[0].title in pages[1].text
    # The live ranking (admins only before publication) hides the names too, in HTML and in the API.
    token = await make_token(db, admin)
    api = await client.get(f"/api/v1/awards/editions/{edition.id}/ranking?branch=e_contribution",
                           headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.json()["blind"] is True
    assert AUTHOR not in api.text and AGENCY_AR not in api.text
    # Before publication nobody else sees the ranking.
    assert (await client.get(f"/api/v1/awards/editions/{edition.id}/ranking?branch=e_contribution")).status_code == 404


async def test_normalization_changes_the_ranking(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, _agency, _author, _ideas, edition, branch, (strict, lenient), (a, b, c) = await judging_setup(db)
    judging = JudgingService(session=db)
    # Every criterion gets the same value, so the weighted total is 10 × value (weights cancel out).
    # Strict scores only A and B: 20 and 40. Lenient scores only B and C: 80 and 70.
    # Raw means: A 20, B 60, C 70 → raw order C, B, A: wrong, the one judge who saw B and C preferred B.
    # z-scores (sample std of two values = |d|/√2): strict A −0.71, B +0.71; lenient B +0.71, C −0.71.
    # Means: B +0.71, A −0.71, C −0.71; the tie A/C goes to the higher mean raw score (C 70 > A 20).
    await judging.declare_conflict(strict, edition.id, entry_id=c.id)
    await judging.declare_conflict(lenient, edition.id, entry_id=a.id)
    await judging.save_scores(strict, a.id, fill(branch, 2), submit=True)
    await judging.save_scores(strict, b.id, fill(branch, 4), submit=True)
    await judging.save_scores(lenient, b.id, fill(branch, 8), submit=True)
    await judging.save_scores(lenient, c.id, fill(branch, 7), submit=True)
    await db.commit()
    await sign_in(client, admin.email)
    page = await client.get(f"/awards/editions/{edition.id}/results?branch=e_contribution")
    assert [int(x) for x in re.findall(r'data-testid="rank-row" data-entry="(\d+)"', page.text)] == [b.id, c.id, a.id]
    assert 'data-testid="tie-break"' in page.text
    assert (await post_form(client, f"/awards/admin/editions/{edition.id}/status",
                            {"status": "results_published"})).status_code == 303
    api = (await client.get(f"/api/v1/awards/editions/{edition.id}/ranking?branch=e_contribution")).json()
    rows = api["entries"]
    assert [r["entry_id"] for r in rows] == [b.id, c.id, a.id] and api["published"] is True
    assert rows[0]["mean_raw"] == pytest.approx(60.0) and rows[0]["final_score"] == pytest.approx(2 ** -0.5)
    assert rows[1]["mean_raw"] == pytest.approx(70.0) and rows[2]["mean_raw"] == pytest.approx(20.0)
    assert rows[0]["entrant"] == AUTHOR_DISPLAY  # display names are public once published
    assert AUTHOR not in str(api)


async def test_submission_is_final_and_publishing_freezes(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, _agency, _author, _ideas, edition, branch, (judge, other), entries = await judging_setup(db, 2)
    await sign_in(client, judge.email)
    url = f"/awards/judging/entries/{entries[0].id}"
    assert (await post_form(client, url, {f"score_{branch.criteria[0].id}": "6", "action": "save"})).status_code == 303
    assert (await post_form(client, url, fill(branch, 7))).status_code == 303  # a draft can change
    partial = await post_form(client, url, {f"score_{branch.criteria[0].id}": "7", "action": "submit"})
    assert partial.status_code == 422  # submitting needs every criterion
    too_high = await post_form(client, url, fill(branch, 11, "submit"))
    assert too_high.status_code == 422
    assert (await post_form(client, url, fill(branch, 8, "submit"))).status_code == 303
    assert (await post_form(client, url, fill(branch, 9, "submit"))).status_code == 409
    assert (await post_form(client, url, fill(branch, 9))).status_code == 409
    page = await client.get(url)
    assert "disabled" in page.text
    history = (await db.scalars(select(ScoreHistory).order_by(ScoreHistory.id))).all()
    first = [h for h in history if h.criterion_id == branch.criteria[0].id]
    assert [(h.old_value, h.new_value) for h in first] == [(None, 6), (6, 7), (7, 8)]
    # Publishing freezes the ranking; later scoring is refused, even for sheets never submitted.
    judging = JudgingService(session=db)
    lifecycle = EditionLifecycleService(session=db)
    await judging.save_scores(other, entries[0].id, fill(branch, 5), submit=True)
    await judging.save_scores(other, entries[1].id, fill(branch, 6), submit=False)
    await lifecycle.advance(admin, edition.id, "results_published")
    await db.commit()
    snaps = (await db.scalars(select(ResultSnapshot).order_by(ResultSnapshot.rank))).all()
    assert [s.entry_id for s in snaps] == [entries[0].id]
    await sign_in(client, other.email)
    refused = await post_form(client, f"/awards/judging/entries/{entries[1].id}", fill(branch, 9, "submit"))
    assert refused.status_code == 409
    # Rubrics are frozen once judging has started.
    await sign_in(client, admin.email)
    assert (await post_form(client, f"/awards/admin/branches/{branch.id}/rubric", {"blind": "1"})).status_code == 409


async def test_permissions(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, agency, _author, _ideas, edition, _branch, (_judge, _other), entries = await judging_setup(db, 1)
    citizen = await make_user(db, Role.CITIZEN)
    await sign_in(client, citizen.email)
    assert (await client.get("/awards/judging")).status_code == 403
    assert (await client.get(f"/awards/judging/entries/{entries[0].id}")).status_code == 403
    assert (await client.get("/awards/admin")).status_code == 403
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}")).status_code == 404
    # A judge of another branch gets 404 for this branch's entries.
    outsider = await make_user(db, Role.JUDGE)
    editions = EditionService(session=db)
    g2c = await editions.branch_by_code(edition.id, BranchCode.G2C)
    await editions.assign_judge(admin, g2c.id, outsider.email)
    await db.commit()
    await sign_in(client, outsider.email)
    assert (await client.get(f"/awards/judging/entries/{entries[0].id}")).status_code == 404
    assert entry_ids((await client.get("/awards/judging")).text) == set()
    # An agency sees its own dossier and not another agency's (pages and API).
    other_agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=other_agency)
    await sign_in(client, staff.email)
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{other_agency.slug}")).status_code == 200
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}")).status_code == 404
    assert (await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}/records?figure=received")
            ).status_code == 404
    token = await make_token(db, staff)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{agency.slug}",
                             headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{other_agency.slug}",
                             headers=headers)).status_code == 200
    assert (await client.get("/api/v1/awards/editions")).json()[0]["branches"][6]["code"] == "e_contribution"


# ----- participation evidence -------------------------------------------------------------------------------


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def evidence_fixture(db: AsyncSession):
    """Five items in the period (plus one before it and one for another agency), with known figures."""
    admin = await make_user(db, Role.ADMIN)
    agency = await make_agency(db)
    elsewhere = await make_agency(db)
    edition = await new_edition(db, admin, status=EditionStatus.JUDGING)
    t1 = Theme(agency_id=agency.id, key="t1", label="رمز التحقق")
    t2 = Theme(agency_id=agency.id, key="t2", label="المواعيد")
    db.add_all([t1, t2])
    await db.flush()

    def item(n: int, channel: Channel, kind: SubmitterKind, answer_h: float | None, sat: int | None,
             public: bool = False, theme: Theme | None = None, ag: int | None = None,
             created: datetime | None = None) -> Feedback:
        created = created or at(date(2025, 3, n))
        return Feedback(tracking_code=f"T{n}{uuid.uuid4().hex[:8]}", agency_id=ag or agency.id,
                        kind=FeedbackKind.COMPLAINT, submitter_kind=kind, channel=channel,
                        body=f"نص أصلي {n} 0551234567", body_public=f"نص عام {n}", contact_email=f"secret{n}@example.sa",
                        is_public=public, publish=public, theme_id=theme.id if theme else None,
                        created_at=created, due_at=created + timedelta(hours=120),
                        first_response_at=created + timedelta(hours=answer_h) if answer_h is not None else None,
                        satisfaction=sat)

    f1 = item(1, Channel.WEB, SubmitterKind.INDIVIDUAL, 10, 5, public=True, theme=t1)
    f2 = item(2, Channel.WEB, SubmitterKind.BUSINESS, 30, 3, theme=t1)
    f3 = item(3, Channel.MOBILE, SubmitterKind.GOVERNMENT, 200, None, theme=t2)
    f4 = item(4, Channel.API, SubmitterKind.INDIVIDUAL, None, None, public=True)
    f5 = item(5, Channel.OPEN311, SubmitterKind.INDIVIDUAL, 2, 4)
    before = item(6, Channel.WEB, SubmitterKind.INDIVIDUAL, 1, 5, created=datetime(2024, 12, 30, 8, tzinfo=UTC))
    other = item(7, Channel.WEB, SubmitterKind.INDIVIDUAL, 1, 5, ag=elsewhere.id)
    db.add_all([f1, f2, f3, f4, f5, before, other])
    await db.flush()
    db.add_all([Response(feedback_id=f1.id, agency_id=agency.id, body="تم", public=True),
                Response(feedback_id=f2.id, agency_id=agency.id, body="خاص", public=False),
                Response(feedback_id=f3.id, agency_id=agency.id, body="تم", public=True),
                Response(feedback_id=f5.id, agency_id=agency.id, body="تم", public=True),
                Response(feedback_id=before.id, agency_id=agency.id, body="تم", public=True)])
    i1 = Improvement(agency_id=agency.id, kind=ImprovementKind.SERVICE, title="إصلاح الرسائل",
                     status=ImprovementStatus.DELIVERED, delivered_on=date(2025, 4, 1))
    i2 = Improvement(agency_id=agency.id, kind=ImprovementKind.POLICY, title="سياسة المواعيد",
                     status=ImprovementStatus.PLANNED)
    i3 = Improvement(agency_id=agency.id, kind=ImprovementKind.PROCESS, title="تبسيط الإجراء",
                     status=ImprovementStatus.DELIVERED, delivered_on=date(2025, 6, 1))
    i4 = Improvement(agency_id=agency.id, kind=ImprovementKind.REGULATION, title="لائحة قديمة",
                     status=ImprovementStatus.DELIVERED, delivered_on=date(2024, 11, 1))
    db.add_all([i1, i2, i3, i4])
    await db.flush()
    await db.execute(improvement_feedback.insert(), [
        {"improvement_id": i1.id, "feedback_id": f1.id}, {"improvement_id": i2.id, "feedback_id": f3.id},
        {"improvement_id": i3.id, "feedback_id": f5.id}])
    await db.execute(improvement_theme.insert(), [{"improvement_id": i1.id, "theme_id": t1.id},
                                                   {"improvement_id": i2.id, "theme_id": t2.id}])
    author = await make_user(db, Role.CITIZEN)
    idea = await make_idea(db, author, "فكرة متبناة", agency.id, IdeaStatus.ADOPTED)
    idea.adopted_by_agency_id = agency.id
    idea.created_at = at(date(2025, 5, 1))
    await db.commit()
    return admin, agency, edition, (f1, f2, f3, f4, f5), (i1, i2, i3, i4), (t1, t2), idea


async def test_dossier_figures_match_hand_counts_and_drill_down(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, agency, edition, (f1, f2, f3, f4, f5), (i1, _i2, i3, _i4), (t1, t2), idea = await evidence_fixture(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    token = await make_token(db, staff)
    data = (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{agency.slug}",
                             headers={"Authorization": f"Bearer {token}"})).json()
    stages = {s["key"]: {f["label"]: f for f in s["figures"]} for s in data["stages"]}
    flat = {(f["key"], f["unit"], i): f for s in data["stages"] for i, f in enumerate(s["figures"])}
    by_key: dict[str, list[dict]] = {}
    for (key, _u, _i), f in flat.items():
        by_key.setdefault(key, []).append(f)
    assert set(stages) == {"e_information", "e_consultation", "e_decision_making"}
    assert by_key["received"][0]["value"] == 5
    assert by_key["answered"][0]["value"] == pytest.approx(4 / 5) and by_key["answered"][0]["records"] == 4
    median, p90 = by_key["first_answer"]
    assert median["value"] == pytest.approx(20.0)  # hours 2, 10, 30, 200 → (10 + 30) / 2
    assert p90["value"] == pytest.approx(149.0)  # linear: 30 + 0.7 × (200 − 30)
    assert by_key["within_sla"][0]["value"] == pytest.approx(3 / 5)  # f1, f2, f5 (f3 took 200 h > 120 h)
    assert by_key["satisfaction"][0]["value"] == pytest.approx(4.0) and by_key["satisfaction"][0]["records"] == 3
    assert by_key["published_answers"][0]["value"] == 3  # f1, f3, f5 (f2's answer is private)
    assert by_key["public_items"][0]["value"] == 2  # f1, f4
    assert by_key["you_said_we_did"][0]["value"] == 2  # i1, i3 (i2 planned, i4 before the period)
    assert by_key["improvements"][0]["value"] == 2
    assert by_key["closed_loop"][0]["value"] == pytest.approx(2 / 5)  # f1 → i1, f5 → i3 (f3 → planned i2)
    assert by_key["adopted_ideas"][0]["value"] == 1
    assert {f["key"]: f["value"] for f in data["by_channel"]} == {
        "channel_web": 2, "channel_api": 1, "channel_open311": 1, "channel_mobile": 1}
    assert {f["key"]: f["value"] for f in data["by_submitter_kind"]} == {
        "kind_individual": 3, "kind_business": 1, "kind_government": 1}
    assert {f["key"]: f["value"] for f in data["improvements_by_kind"]} == {
        "improvements_service": 1, "improvements_policy": 0, "improvements_regulation": 0, "improvements_process": 1}
    themes = {t["label"]: t for t in data["themes"]}
    assert themes["رمز التحقق"]["items"] == 2 and [a["title"] for a in themes["رمز التحقق"]["actions"]] == ["إصلاح الرسائل"]
    assert themes["المواعيد"]["items"] == 1 and themes["المواعيد"]["actions"][0]["status"] == "planned"

    await sign_in(client, admin.email)
    page = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}")
    assert page.status_code == 200 and 'data-stage="e_decision_making"' in page.text
    base = f"/awards/editions/{edition.id}/evidence/{agency.slug}/records?figure="

    async def ids(figure: str) -> set[int]:
        html = (await client.get(base + figure)).text
        assert "secret" not in html and "0551234567" not in html and "نص أصلي" not in html
        return {int(x) for x in re.findall(r'data-testid="record" data-id="(\d+)"', html)}

    assert await ids("received") == {f1.id, f2.id, f3.id, f4.id, f5.id}
    assert await ids("answered") == {f1.id, f2.id, f3.id, f5.id}
    assert await ids("within_sla") == {f1.id, f2.id, f5.id}
    assert await ids("closed_loop") == {f1.id, f5.id}
    assert await ids("published_answers") == {f1.id, f3.id, f5.id}
    assert await ids("channel_web") == {f1.id, f2.id}
    assert await ids("kind_individual") == {f1.id, f4.id, f5.id}
    assert await ids(f"theme_{t1.id}") == {f1.id, f2.id}
    assert await ids(f"theme_{t2.id}") == {f3.id}
    assert await ids("improvements") == {i1.id, i3.id}
    assert await ids("improvements_service") == {i1.id}
    assert await ids("adopted_ideas") == {idea.id}
    assert (await client.get(base + "nonsense")).status_code == 404
    csv_export = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}/export/csv")
    assert csv_export.status_code == 200 and "closed_loop" in csv_export.text
    json_export = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}/export/json")
    assert json_export.json()["agency_slug"] == agency.slug


async def test_demo_loads_a_published_and_a_judging_edition(db: AsyncSession) -> None:
    import random

    from voice.awards.demo import load_awards_demo

    people = PEOPLE
    users = {u.email: u for u in [await make_user(db, Role.ADMIN)]}
    for j in people["judges"]:
        users[j["email"]] = await make_user(db, Role.JUDGE, email=j["email"])
    agencies = {a.slug: a for a in [await make_agency(db) for _ in range(10)]}
    author = await make_user(db, Role.CITIZEN)
    for i in range(8):
        await make_idea(db, author, f"فكرة تجريبية {i}", status=IdeaStatus.ACCEPTED_FOR_EVALUATION if i % 2
                        else IdeaStatus.WINNER)
    assert await load_awards_demo(db, users, agencies, random.Random(7)) > 0
    await db.commit()
    editions = (await db.scalars(select(Edition).order_by(Edition.number))).all()
    assert [e.status for e in editions] == [EditionStatus.RESULTS_PUBLISHED, EditionStatus.JUDGING]
    snaps = (await db.scalars(select(ResultSnapshot).where(ResultSnapshot.edition_id == editions[0].id))).all()
    assert len(snaps) >= 10 and all(s.n_judges >= 2 for s in snaps)
    assert await db.scalar(select(func.count(Entry.id)).where(Entry.edition_id == editions[1].id,
                                                             Entry.idea_id.is_not(None))) >= 4
    assert await load_awards_demo(db, users, agencies, random.Random(7)) == 0  # idempotent


async def test_admin_and_agency_pages_flow(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    agency = await make_agency(db)
    boss = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    judge = await make_user(db, Role.JUDGE)
    await sign_in(client, admin.email)
    created = await post_form(client, "/awards/admin/editions", {
        "number": "3", "name_ar": "الدورة الثالثة", "name_en": "Third edition", "opens_on": "2025-01-01",
        "closes_on": "2025-06-30", "evidence_from": "2025-01-01", "evidence_to": "2025-12-31"})
    assert created.status_code == 303
    edition = await db.scalar(select(Edition).where(Edition.number == 3))
    assert (await client.get("/awards/admin")).status_code == 200
    assert (await post_form(client, "/awards/admin/editions", {"number": "3"})).status_code == 422
    page = await client.get(created.headers["location"])
    assert page.status_code == 200 and "المشاركة المجتمعية الإلكترونية (صوت المستفيد)" in page.text
    branch = await EditionService(session=db).branch_by_code(edition.id, BranchCode.E_PARTICIPATION)
    rubric = await client.get(f"/awards/admin/branches/{branch.id}/rubric")
    assert rubric.status_code == 200 and "إغلاق الحلقة" in rubric.text
    form = {f"c{c.id}_{k}": str(getattr(c, k)) for c in branch.criteria
            for k in ("name_ar", "name_en", "description", "weight", "scale_max")}
    form.update({"blind": "1", "new_name_ar": "الاستدامة", "new_weight": "1", "new_scale_max": "5"})
    assert (await post_form(client, f"/awards/admin/branches/{branch.id}/rubric", form)).status_code == 303
    await db.refresh(branch, ["criteria", "blind"])
    assert branch.blind and len(branch.criteria) == 5
    assert (await post_form(client, f"/awards/admin/branches/{branch.id}/judges", {"email": judge.email})
            ).status_code == 303
    assert (await post_form(client, f"/awards/admin/editions/{edition.id}/status",
                            {"status": "open_for_entries"})).status_code == 303
    await sign_in(client, boss.email)
    assert (await client.get("/awards/agency")).status_code == 200
    entered = await post_form(client, f"/awards/agency/editions/{edition.id}/entries", {
        "branch": "e_participation", "title": "صوت المستفيد لدينا",
        "narrative": "نستقبل الملاحظات من كل القنوات ونرد عليها ونحوّلها إلى تحسينات.",
        "documents": "التقرير السنوي https://example.sa/report.pdf"})
    assert entered.status_code == 303
    bad = await post_form(client, f"/awards/agency/editions/{edition.id}/entries",
                          {"branch": "g2c", "title": "x", "narrative": "قصير", "documents": "ftp://x"})
    assert bad.status_code == 422
    await sign_in(client, admin.email)
    assert (await post_form(client, f"/awards/admin/editions/{edition.id}/status",
                            {"status": "judging"})).status_code == 303
    assert (await client.get(f"/awards/editions/{edition.id}/results?branch=e_participation")).status_code == 200
    await sign_in(client, judge.email)
    entry = await db.scalar(select(Entry).where(Entry.agency_id == agency.id))
    score = await client.get(f"/awards/judging/entries/{entry.id}")
    assert score.status_code == 200 and agency.name_ar not in score.text  # blind was switched on
    dossier = await client.get(f"/awards/judging/entries/{entry.id}/evidence")
    assert dossier.status_code == 200 and agency.name_ar not in dossier.text and agency.slug not in dossier.text
    records = await client.get(f"/awards/judging/entries/{entry.id}/evidence/records?figure=received")
    assert records.status_code == 200 and agency.name_ar not in records.text
    assert (await client.get(f"/awards/judging/editions/{edition.id}/conflicts")).status_code == 200
    assert (await client.get("/awards")).status_code == 200


async def test_rubric_descriptions_are_shown_in_the_reader_s_language(client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    _admin, _agency, _author, _ideas, _edition, _branch, (judge, _other), entries = await judging_setup(db, 1)
    await sign_in(client, judge.email)
    url = f"/awards/judging/entries/{entries[0].id}"
    arabic = (await client.get(url, params={"lang": "ar"})).text
    english = (await client.get(url, params={"lang": "en"})).text
    assert "مدى جِدّة الفكرة وإبداعها." in arabic and "How new and creative the idea is." not in arabic
    assert "How new and creative the idea is." in english and "مدى جِدّة الفكرة وإبداعها." not in english
