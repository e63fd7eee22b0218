"""Blind judging that stays blind, through the real services and HTTP: a judge cannot learn who wrote a blind
entry from any public route (idea search, the idea page, similar ideas, the ideas API) while the edition
judges; the score page leaves out what identifies an idea (status, votes, comments); an entry scored by too
few judges is listed as not ranked instead of topping the ranking; the dossier judges score is frozen when
judging opens and carries only dossier-local references."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import IdeaComment, IdeaStatus
from tests.conftest import post_form
from tests.factories import make_token, make_user
from tests.test_awards import (
    AUTHOR,
    AUTHOR_DISPLAY,
    evidence_fixture,
    fill,
    judging_setup,
    make_idea,
    new_edition,
    sign_in,
)
from voice.accounts.models import Role, SubmitterKind
from voice.awards.editions import EditionService
from voice.awards.entries import EntryService
from voice.awards.judging import JudgingService
from voice.awards.lifecycle import EditionLifecycleService
from voice.awards.models import DEFAULT_MIN_JUDGES, BranchCode, EditionStatus, ResultSnapshot
from voice.feedback.models import Channel, Feedback, FeedbackKind, Response
from voice.text import search_text
from voice.workspace.models import Improvement, ImprovementKind, ImprovementStatus

COMMENTER = "ناصر المعلّق"


def ids_in(html: str, testid: str) -> list[int]:
    return [int(x) for x in re.findall(rf'data-testid="{testid}" data-entry="(\d+)"', html)]


async def test_a_judge_cannot_learn_who_wrote_a_blind_entry(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin, _agency, author, ideas, edition, branch, (judge, _other), entries = await judging_setup(db, 2)
    idea = ideas[0]
    # What made the entry recognisable on the score page: it won before, people voted, its author answered.
    idea.status, idea.votes, idea.comments_count = IdeaStatus.WINNER, 37, 2
    idea.search_text = search_text(f"{idea.title} {idea.description_public}")  # as IdeaService.submit does
    commenter = await make_user(db, Role.CITIZEN)
    commenter.display_name = COMMENTER
    db.add_all([IdeaComment(idea_id=idea.id, author_id=author.id, body="أنا صاحبة الفكرة وأشرح",
                            body_public="أنا صاحبة الفكرة وأشرح"),
                IdeaComment(idea_id=idea.id, author_id=commenter.id, body="تعليق يدل على الفكرة",
                            body_public="تعليق يدل على الفكرة")])
    # The same author's idea that is not entered anywhere keeps its byline: the rule is about entries.
    free = await make_idea(db, author, "فكرة حرة خارج الجائزة", status=IdeaStatus.SUBMITTED)
    await db.commit()
    assert branch.blind and entries[0].idea_id == idea.id

    await sign_in(client, judge.email)
    score = await client.get(f"/awards/judging/entries/{entries[0].id}")
    assert score.status_code == 200 and idea.title in score.text and 'data-testid="blind-note"' in score.text
    for identifying in ("فائزة", "٣٧", "الأصوات", "تعليق يدل على الفكرة", "أنا صاحبة الفكرة", AUTHOR, AUTHOR_DISPLAY):
        assert identifying not in score.text

    # Everything public the judge can reach with the entry's title, signed in and with a token.
    token = await make_token(db, judge)
    api = {"Authorization": f"Bearer {token}"}
    search = await client.get("/ideas", params={"q": idea.title})
    assert search.status_code == 200 and f'id="idea-{idea.id}"' in search.text
    listed = await client.get("/api/v1/ideas", params={"q": idea.title}, headers=api)
    similar = await client.get("/api/v1/ideas/similar", params={"q": f"{idea.title} {idea.description_public}"},
                               headers=api)
    panel = await client.get("/ideas/similar-panel", params={"title": idea.title})
    assert idea.id in {i["id"] for i in listed.json()["items"]} and idea.id in {i["id"] for i in similar.json()}
    found = {i["id"] for i in listed.json()["items"]} | {i["id"] for i in similar.json()}
    pages = [search, listed, similar, panel, await client.get(f"/api/v1/ideas/{idea.id}", headers=api)]
    pages += [await client.get(f"/ideas/{i}") for i in found - {free.id}]  # the free idea is not an entry
    for page in pages:
        assert page.status_code == 200
        assert AUTHOR_DISPLAY not in page.text and AUTHOR not in page.text, page.url
    idea_page = await client.get(f"/ideas/{idea.id}")
    assert 'data-testid="attribution-withheld"' in idea_page.text
    assert COMMENTER in idea_page.text  # other people's comments keep their names
    assert "صاحب الفكرة" in idea_page.text  # the author's own comment is signed "the idea's author"
    anonymous = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with anonymous:
        assert AUTHOR_DISPLAY not in (await anonymous.get(f"/ideas/{idea.id}")).text
    assert AUTHOR_DISPLAY in (await client.get(f"/ideas/{free.id}")).text

    # Publication ends the blind period: the byline returns.
    judging = JudgingService(session=db)
    for e in entries:
        await judging.save_scores(judge, e.id, fill(branch, 5), submit=True)
    await EditionLifecycleService(session=db).advance(admin, edition.id, "results_published")
    await db.commit()
    back = await client.get(f"/ideas/{idea.id}")
    assert AUTHOR_DISPLAY in back.text and 'data-testid="attribution-withheld"' not in back.text


async def test_an_entry_scored_by_too_few_judges_is_not_ranked(client: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    fresh = await new_edition(db, admin, number=7, status=EditionStatus.DRAFT)
    assert fresh.min_judges == DEFAULT_MIN_JUDGES
    # The minimum is set on the edition page, checked, and fixed once judging opens.
    await sign_in(client, admin.email)
    url = f"/awards/admin/editions/{fresh.id}/min-judges"
    assert (await post_form(client, url, {"min_judges": "0"})).status_code == 422
    assert (await post_form(client, url, {"min_judges": "٢"})).status_code == 422
    assert (await post_form(client, url, {"min_judges": "2"})).status_code == 303
    await db.refresh(fresh)
    assert fresh.min_judges == 2

    _admin, _agency, _author, _ideas, edition, branch, (a, b), (e0, e1, e2) = await judging_setup(db)
    third = await make_user(db, Role.JUDGE)
    await EditionService(session=db).assign_judge(admin, branch.id, third.email)
    await db.commit()
    assert (await post_form(client, f"/awards/admin/editions/{edition.id}/min-judges",
                            {"min_judges": "2"})).status_code == 409
    edition.min_judges = 2
    await db.commit()
    judging = JudgingService(session=db)
    # Judge a scores all three and loves e0; nobody else scores e0. b and c score e1 above e2.
    # a: 100, 20, 30 → z +1.15, −0.69, −0.46; b and c: 60, 50 → z +0.71, −0.71.
    # e0 alone has the highest mean z (1.15) from one judge: it must not be ranked first.
    for judge, values in ((a, {e0: 10, e1: 2, e2: 3}), (b, {e1: 6, e2: 5}), (third, {e1: 6, e2: 5})):
        for entry, value in values.items():
            await judging.save_scores(judge, entry.id, fill(branch, value), submit=True)
    await db.commit()
    results_url = f"/awards/editions/{edition.id}/results?branch=e_contribution"
    edition.min_judges = 1  # what the ranking was before the rule: the single-judge entry on top
    await db.commit()
    assert ids_in((await client.get(results_url)).text, "rank-row") == [e0.id, e1.id, e2.id]
    edition.min_judges = 2
    await db.commit()
    live = await client.get(results_url)
    assert ids_in(live.text, "rank-row") == [e1.id, e2.id] and ids_in(live.text, "unranked-row") == [e0.id]

    await EditionLifecycleService(session=db).advance(admin, edition.id, "results_published")
    await db.commit()
    snaps = {s.entry_id: s.rank for s in (await db.scalars(select(ResultSnapshot).where(
        ResultSnapshot.edition_id == edition.id))).all()}
    assert snaps == {e1.id: 1, e2.id: 2, e0.id: None}
    anonymous = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with anonymous:
        page = await anonymous.get(results_url)
        assert ids_in(page.text, "rank-row") == [e1.id, e2.id] and ids_in(page.text, "unranked-row") == [e0.id]
        assert "غير مرتّبة" in page.text and "قيّمها محكّم واحد" in page.text
        api = (await anonymous.get(f"/api/v1/awards/editions/{edition.id}/ranking",
                                   params={"branch": "e_contribution"})).json()
    assert api["min_judges"] == 2
    rows = {r["entry_id"]: r for r in api["entries"]}
    assert [r["entry_id"] for r in api["entries"]] == [e1.id, e2.id, e0.id]
    assert rows[e0.id]["rank"] is None and rows[e0.id]["ranked"] is False and rows[e0.id]["n_judges"] == 1
    assert rows[e0.id]["not_ranked_reason"] and rows[e1.id]["rank"] == 1 and rows[e1.id]["not_ranked_reason"] == ""



def figure(html: str, key: str) -> str:
    found = re.search(rf'data-figure="{key}"><a [^>]*>([^<]+)</a>', html)
    assert found, key
    return found.group(1)


async def test_the_dossier_judges_score_is_frozen_with_local_references(client: httpx.AsyncClient,
                                                                        db: AsyncSession) -> None:
    admin, agency, edition, (f1, f2, f3, f4, f5), _improvements, (t1, _t2), _idea = await evidence_fixture(db)
    edition.status = EditionStatus.OPEN_FOR_ENTRIES
    await db.commit()
    boss = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    entry = await EntryService(session=db).enter(boss, edition.id, {
        "branch": "e_participation", "title": "صوت المستفيد لدينا",
        "narrative": "نستقبل الملاحظات من كل القنوات ونرد عليها ونحوّلها إلى تحسينات."})
    editions = EditionService(session=db)
    participation = await editions.branch_by_code(edition.id, BranchCode.E_PARTICIPATION)
    participation.blind = True
    judge = await make_user(db, Role.JUDGE)
    await editions.assign_judge(admin, participation.id, judge.email)
    await EditionLifecycleService(session=db).advance(admin, edition.id, "judging")  # freezes the dossier
    await db.commit()

    # During judging the agency keeps working: a new item, an answer published, an improvement delivered.
    created = datetime(2025, 3, 20, 7, tzinfo=UTC)
    db.add(Feedback(tracking_code=f"N{uuid.uuid4().hex[:8]}", agency_id=agency.id, kind=FeedbackKind.COMPLAINT,
                    submitter_kind=SubmitterKind.INDIVIDUAL, channel=Channel.WEB, body="جديد", body_public="نص جديد",
                    created_at=created, due_at=created + timedelta(hours=120), is_public=True, publish=True))
    db.add(Response(feedback_id=f4.id, agency_id=agency.id, body="تم الآن", public=True))
    db.add(Improvement(agency_id=agency.id, kind=ImprovementKind.SERVICE, title="تحسين أثناء التحكيم",
                       status=ImprovementStatus.DELIVERED, delivered_on=date(2025, 7, 1)))
    await db.commit()

    await sign_in(client, judge.email)
    page = await client.get(f"/awards/judging/entries/{entry.id}/evidence")
    assert page.status_code == 200 and 'data-testid="frozen"' in page.text
    assert figure(page.text, "received") == "٥"  # not ٦: the new item came after the snapshot
    assert figure(page.text, "published_answers") == "٣" and figure(page.text, "improvements") == "٢"
    assert "رمز التحقق" not in page.text and "إصلاح الرسائل" not in page.text  # public under the agency's name
    records = await client.get(f"/awards/judging/entries/{entry.id}/evidence/records", params={"figure": "received"})
    assert records.status_code == 200
    refs = re.findall(r'<span dir="ltr">([^<]+)</span>', records.text)
    assert sorted(refs) == [f"R-{n}" for n in sorted(int(r[2:]) for r in refs)] and len(refs) == 5
    for public_ref in ("FB-", "IMP-", "IDEA-", *(f.tracking_code for f in (f1, f2, f3, f4, f5))):
        assert public_ref not in records.text and public_ref not in page.text
    assert "نص عام 2" in records.text and "نص عام 3" in records.text  # private items: their text is evidence
    assert "نص عام 1" not in records.text and "نص عام 4" not in records.text  # on the public board
    assert "نص جديد" not in records.text
    improvements = await client.get(f"/awards/judging/entries/{entry.id}/evidence/records",
                                    params={"figure": "improvements"})
    assert len(re.findall(r'data-testid="record"', improvements.text)) == 2
    assert "تحسين أثناء التحكيم" not in improvements.text and "IMP-" not in improvements.text
    assert (await client.get(f"/awards/judging/entries/{entry.id}/evidence/records",
                             params={"figure": f"theme_{t1.id + 1000}"})).status_code == 404

    # Judges of a branch that is not blind read the same frozen copy by agency, in pages and the API, with
    # the public texts but still only local references.
    participation.blind = False
    await db.commit()
    by_agency = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}")
    assert by_agency.status_code == 200 and figure(by_agency.text, "received") == "٥"
    assert 'data-testid="frozen"' in by_agency.text
    open_records = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}/records",
                                    params={"figure": "received"})
    assert "نص عام 1" in open_records.text and "FB-" not in open_records.text and "نص جديد" not in open_records.text
    judge_api = (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{agency.slug}",
                                  headers={"Authorization": f"Bearer {await make_token(db, judge)}"})).json()
    assert judge_api["frozen_at"] and judge_api["stages"][1]["figures"][0]["value"] == 5

    # The agency's staff see the live dossier, told what the judges score.
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    live = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}")
    assert figure(live.text, "received") == "٦" and 'data-testid="live"' in live.text
    assert figure(live.text, "improvements") == "٣"
    live_records = await client.get(f"/awards/editions/{edition.id}/evidence/{agency.slug}/records",
                                    params={"figure": "received"})
    assert f"FB-{f1.id}" in live_records.text and "نص جديد" in live_records.text
    staff_api = (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{agency.slug}",
                                  headers={"Authorization": f"Bearer {await make_token(db, staff)}"})).json()
    assert staff_api["frozen_at"] is None and staff_api["stages"][1]["figures"][0]["value"] == 6


def test_public_idea_templates_name_authors_only_through_the_byline() -> None:
    """The byline is the one way an idea's author reaches a public page, so withholding it cannot be
    forgotten by a new template: no template of the ideas pages reads an author directly."""
    root = Path(__file__).resolve().parents[1] / "templates" / "ideas"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.html")
                 if re.search(r"\.author\b|author_id", p.read_text(encoding="utf-8"))]
    assert offenders == []
