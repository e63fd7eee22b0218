"""E-contribution through HTTP: sharing ideas with live similar-idea suggestions, similar-idea search,
votes, threaded comments, merging duplicates, adoption by an agency, moderation, roles and the API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.models import Idea, IdeaComment, IdeaFollower, IdeaModeration, IdeaStatus, IdeaVote
from ideas.participation import IdeaParticipationService
from ideas.services import IdeaDraft, IdeaService
from ideas.settings import IdeasSettings
from ideas.texts import abusive_words
from tests.conftest import csrf_token, post_form
from tests.factories import PASSWORD, make_agency, make_token, make_user
from voice.accounts.models import Role, User
from voice.notifications.models import Notification

REMINDER = ("تنبيه قبل انتهاء الوثائق الرسمية",
            "إرسال تنبيه موحد قبل انتهاء الهوية أو الجواز أو رخصة القيادة بشهر مع رابط تجديد مباشر")
REMINDER_PARAPHRASE = ("تذكير بمواعيد تجديد المستندات قبل انتهائها",
                       "خدمة ترسل تذكيرا بالجوال قبل انتهاء الجواز والهوية ورخصة القيادة مع رابط للتجديد")
PARKING = ("مواقف ذكية قرب المستشفيات",
           "تطبيق يعرض المواقف الشاغرة حول المستشفيات الحكومية لحظيا ويتيح حجز موقف قبل الموعد")
CLINIC = ("حجز مواعيد العيادات بنقرة واحدة",
          "ربط مواعيد العيادات بالتقويم في الجوال وإلغاء الموعد برسالة نصية قصيرة")


async def make_idea(db: AsyncSession, author: User, text: tuple[str, str], **fields: str) -> Idea:
    idea = await IdeaService(session=db).submit(IdeaDraft(title=text[0], description=text[1], **fields), author)
    await db.commit()
    return idea


async def fresh(db: AsyncSession, idea_id: int) -> Idea:
    """The idea as the database has it now (the app changed it through its own session)."""
    return await db.scalar(select(Idea).where(Idea.id == idea_id).execution_options(populate_existing=True))


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    response = await post_form(client, "/signin", {"email": email, "password": PASSWORD})
    assert response.status_code == 303


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sharing_an_idea_shows_similar_ideas_while_typing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    first = await make_user(db)
    original = await make_idea(db, first, REMINDER)
    await make_idea(db, first, PARKING)
    author = await make_user(db)
    await sign_in(client, author.email)

    page = await client.get("/ideas/new")
    assert page.status_code == 200
    assert 'hx-get="/ideas/similar-panel"' in page.text and "input changed delay:400ms" in page.text

    panel = await client.get("/ideas/similar-panel", params={
        "title": REMINDER_PARAPHRASE[0], "description": REMINDER_PARAPHRASE[1]}, headers={"hx-request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.text
    assert REMINDER[0] in panel.text and f'hx-post="/ideas/{original.id}/vote"' in panel.text
    assert PARKING[0] not in panel.text or panel.text.index(REMINDER[0]) < panel.text.index(PARKING[0])
    assert "ادعم هذه بدلًا منها" in panel.text
    empty = await client.get("/ideas/similar-panel", params={"title": "", "description": ""})
    assert empty.status_code == 200 and "similar-ideas" not in empty.text

    # "Support this one instead" from the panel votes for the existing idea.
    token = await csrf_token(client)
    voted = await client.post(f"/ideas/{original.id}/vote", data={"_csrf_token": token},
                              headers={"hx-request": "true"})
    assert voted.status_code == 200 and 'data-testid="votes">١<' in voted.text

    created = await post_form(client, "/ideas", {"title": REMINDER_PARAPHRASE[0],
                                                 "description": REMINDER_PARAPHRASE[1], "category": "digital_services",
                                                 "problem": "الناس ينسون مواعيد التجديد فيدفعون غرامات"})
    assert created.status_code == 303
    idea = await db.scalar(select(Idea).where(Idea.author_id == author.id))
    assert created.headers["location"] == f"/ideas/{idea.id}?new=1"
    assert idea.is_public and idea.status is IdeaStatus.SUBMITTED
    shown = await client.get(created.headers["location"])
    assert shown.status_code == 200 and REMINDER_PARAPHRASE[0] in shown.text
    assert await db.scalar(select(func.count()).select_from(IdeaFollower).where(
        IdeaFollower.idea_id == idea.id, IdeaFollower.user_id == author.id)) == 1


async def test_api_similar_ranks_a_paraphrase_above_unrelated_ideas(client: httpx.AsyncClient,
                                                                      db: AsyncSession) -> None:
    author = await make_user(db)
    reminder = await make_idea(db, author, REMINDER)
    parking = await make_idea(db, author, PARKING)
    clinic = await make_idea(db, author, CLINIC)
    response = await client.get("/api/v1/ideas/similar", params={"q": " ".join(REMINDER_PARAPHRASE)})
    assert response.status_code == 200
    ranked = response.json()
    assert ranked and ranked[0]["id"] == reminder.id and ranked[0]["title"] == REMINDER[0]
    assert set(ranked[0]) == {"id", "title", "score"}
    scores = {r["id"]: r["score"] for r in ranked}
    for other in (parking.id, clinic.id):
        assert scores.get(other, 0) < scores[reminder.id]
    # A new idea is found right after it is shared (the index follows the database).
    new = await make_idea(db, author, ("إشعار قبل انتهاء صلاحية الإقامة", "رسالة تنبيه للمقيم قبل انتهاء صلاحية الإقامة"))
    again = (await client.get("/api/v1/ideas/similar", params={"q": "تنبيه انتهاء صلاحية الإقامة للمقيم"})).json()
    assert again[0]["id"] == new.id
    missing = await client.get("/api/v1/ideas/similar")
    assert missing.status_code == 400


async def test_votes_count_once_and_can_be_withdrawn(client: httpx.AsyncClient, db: AsyncSession) -> None:
    author = await make_user(db)
    idea = await make_idea(db, author, REMINDER)
    one, two = await make_user(db), await make_user(db)
    t1, t2 = await make_token(db, one), await make_token(db, two)
    url = f"/api/v1/ideas/{idea.id}/vote"
    for _ in range(3):
        response = await client.post(url, headers=bearer(t1))
        assert response.status_code == 200 and response.json() == {"id": idea.id, "votes": 1, "voted": True}
    assert (await client.post(url, headers=bearer(t2))).json()["votes"] == 2
    assert (await client.delete(url, headers=bearer(t1))).json() == {"id": idea.id, "votes": 1, "voted": False}
    assert (await client.delete(url, headers=bearer(t1))).json()["votes"] == 1
    assert await db.scalar(select(func.count()).select_from(IdeaVote)) == 1
    detail = await client.get(f"/api/v1/ideas/{idea.id}")
    assert detail.status_code == 200 and detail.json()["votes"] == 1

    # The same through the page's htmx button.
    await sign_in(client, one.email)
    token = await csrf_token(client)
    for _ in range(2):
        voted = await client.post(f"/ideas/{idea.id}/vote", data={"_csrf_token": token}, headers={"hx-request": "true"})
        assert voted.status_code == 200 and 'data-testid="votes">٢<' in voted.text and "/unvote" in voted.text
    withdrawn = await client.post(f"/ideas/{idea.id}/unvote", data={"_csrf_token": token},
                                  headers={"hx-request": "true"})
    assert 'data-testid="votes">١<' in withdrawn.text


async def test_comments_and_threaded_replies(client: httpx.AsyncClient, db: AsyncSession) -> None:
    author = await make_user(db)
    idea = await make_idea(db, author, REMINDER)
    reader = await make_user(db)
    await sign_in(client, reader.email)
    first = await post_form(client, f"/ideas/{idea.id}/comments", {"body": "فكرة ممتازة وتوفر وقت المراجعين"})
    assert first.status_code == 303
    parent = await db.scalar(select(IdeaComment))
    assert first.headers["location"] == f"/ideas/{idea.id}#c-{parent.id}"
    reply = await post_form(client, f"/ideas/{idea.id}/comments", {
        "body": "أتفق، وأقترح إضافة التنبيه في تطبيق الجوال", "parent_id": str(parent.id)})
    assert reply.status_code == 303
    child = await db.scalar(select(IdeaComment).where(IdeaComment.parent_id == parent.id))
    assert child is not None
    bad = await post_form(client, f"/ideas/{idea.id}/comments", {"body": "<script>x</script> تعليق"})
    assert bad.status_code == 422 and "is-invalid" in bad.text
    page = await client.get(f"/ideas/{idea.id}")
    assert page.text.index(f'id="c-{parent.id}"') < page.text.index(f'id="c-{child.id}"')
    assert "ps-3 border-start" in page.text  # the reply is nested under its comment
    assert (await fresh(db, idea.id)).comments_count == 2
    assert await db.scalar(select(func.count()).select_from(IdeaComment)) == 2


async def test_merging_a_duplicate_moves_votes_without_double_counting(client: httpx.AsyncClient,
                                                                         db: AsyncSession) -> None:
    author = await make_user(db)
    original = await make_idea(db, author, REMINDER)
    duplicate = await make_idea(db, author, REMINDER_PARAPHRASE)
    a, b, c = await make_user(db), await make_user(db), await make_user(db)
    service = IdeaParticipationService(session=db)
    for user in (a, b):
        await service.vote(original.id, user)
    for user in (b, c):  # b supported both
        await service.vote(duplicate.id, user)
    await db.commit()
    admin = await make_user(db, Role.ADMIN)
    await sign_in(client, admin.email)
    merged = await post_form(client, f"/ideas/{duplicate.id}/merge", {"original": f"#{original.id}"})
    assert merged.status_code == 303 and merged.headers["location"] == f"/ideas/{original.id}"
    assert (await fresh(db, original.id)).votes == 3
    assert await db.scalar(select(func.count()).select_from(IdeaVote).where(IdeaVote.idea_id == original.id)) == 3
    assert (await fresh(db, duplicate.id)).merged_into_id == original.id
    followers = set((await db.scalars(select(IdeaFollower.user_id).where(IdeaFollower.idea_id == original.id))).all())
    assert author.id in followers
    dup_page = await client.get(f"/ideas/{duplicate.id}")
    assert 'data-testid="merged-into"' in dup_page.text and f'href="/ideas/{original.id}"' in dup_page.text
    orig_page = await client.get(f"/ideas/{original.id}")
    assert 'data-testid="duplicates"' in orig_page.text and REMINDER_PARAPHRASE[0] in orig_page.text
    listed = (await client.get("/api/v1/ideas")).json()
    assert [i["id"] for i in listed["items"]] == [original.id]
    into_itself = await post_form(client, f"/ideas/{original.id}/merge", {"original": str(original.id)})
    assert into_itself.status_code == 422


async def test_agency_adopts_an_idea_and_followers_are_told(client: httpx.AsyncClient, db: AsyncSession) -> None:
    passports = await make_agency(db, "passports", name_ar="المديرية العامة للجوازات")
    other = await make_agency(db, "traffic")
    author = await make_user(db)
    idea = await make_idea(db, author, REMINDER, agency="passports", service="renewal")
    stranger = await make_user(db, Role.AGENCY_STAFF, agency=other)
    await sign_in(client, stranger.email)
    refused = await post_form(client, f"/ideas/{idea.id}/adopt", {"answer": ""})
    assert refused.status_code == 403

    client.cookies.clear()
    staff = await make_user(db, Role.AGENCY_STAFF, agency=passports)
    await sign_in(client, staff.email)
    page = await client.get(f"/ideas/{idea.id}")
    assert 'data-testid="staff-actions"' in page.text
    adopted = await post_form(client, f"/ideas/{idea.id}/adopt", {"answer": "سنضيف التنبيه في أبشر خلال الربع القادم"})
    assert adopted.status_code == 303
    shown = await client.get(f"/ideas/{idea.id}")
    assert 'data-testid="adopted-by"' in shown.text and "المديرية العامة للجوازات" in shown.text
    assert "سنضيف التنبيه" in shown.text
    stored = await fresh(db, idea.id)
    assert stored.status is IdeaStatus.ADOPTED and stored.adopted_by_agency_id == passports.id
    notes = (await db.scalars(select(Notification).where(Notification.to_address == author.email))).all()
    assert len(notes) == 1 and "المديرية العامة للجوازات" in notes[0].body
    done = await post_form(client, f"/ideas/{idea.id}/status", {"status": "implemented"})
    assert done.status_code == 303
    api = (await client.get(f"/api/v1/ideas/{idea.id}")).json()
    assert api["status"] == "implemented" and api["adopted_by"] == "passports"


async def test_citizens_cannot_change_status_and_admins_follow_the_lifecycle(client: httpx.AsyncClient,
                                                                            db: AsyncSession) -> None:
    author = await make_user(db)
    idea = await make_idea(db, author, REMINDER)
    await sign_in(client, author.email)
    page = await client.get(f"/ideas/{idea.id}")
    assert 'data-testid="staff-actions"' not in page.text
    refused = await post_form(client, f"/ideas/{idea.id}/status", {"status": "under_review"})
    assert refused.status_code == 403
    client.cookies.clear()
    admin = await make_user(db, Role.ADMIN)
    await sign_in(client, admin.email)
    skip = await post_form(client, f"/ideas/{idea.id}/status", {"status": "winner"})
    assert skip.status_code == 409
    no_reason = await post_form(client, f"/ideas/{idea.id}/status", {"status": "declined"})
    assert no_reason.status_code == 422
    for status in ("under_review", "accepted_for_evaluation", "shortlisted"):
        assert (await post_form(client, f"/ideas/{idea.id}/status", {"status": status})).status_code == 303
    declined = await post_form(client, f"/ideas/{idea.id}/status", {"status": "declined",
                                                                    "reason": "الفكرة منفذة في منصة أخرى"})
    assert declined.status_code == 303
    shown = await client.get(f"/ideas/{idea.id}")
    assert "الفكرة منفذة في منصة أخرى" in shown.text
    assert (await fresh(db, idea.id)).status is IdeaStatus.DECLINED


async def test_word_filter_holds_an_idea_for_review(client: httpx.AsyncClient, db: AsyncSession) -> None:
    assert abusive_words("يا أغبياء هذا النظام") and abusive_words("This is STUPID") and not abusive_words(REMINDER[1])
    author = await make_user(db)
    await sign_in(client, author.email)
    created = await post_form(client, "/ideas", {"title": "نظام المواعيد غبي ويحتاج تغيير",
                                                 "description": "الموظف الغبي لا يرد والحل هو حجز إلكتروني كامل",
                                                 "category": "efficiency"})
    assert created.status_code == 303
    idea = await db.scalar(select(Idea))
    assert idea.held_for_review and not idea.is_public and idea.moderation is IdeaModeration.PENDING
    own = await client.get(f"/ideas/{idea.id}")
    assert own.status_code == 200 and 'data-testid="not-public"' in own.text
    client.cookies.clear()
    assert (await client.get(f"/ideas/{idea.id}")).status_code == 404
    assert idea.title not in (await client.get("/ideas")).text
    assert (await client.get("/api/v1/ideas")).json()["total"] == 0
    assert (await client.get("/api/v1/ideas/similar", params={"q": "نظام المواعيد غبي"})).json() == []
    admin = await make_user(db, Role.ADMIN)
    await sign_in(client, admin.email)
    queue = await client.get("/admin/ideas")
    assert queue.status_code == 200 and 'data-testid="pending-idea"' in queue.text and idea.title in queue.text
    approved = await post_form(client, f"/ideas/{idea.id}/moderate", {"action": "approve", "next": "/admin/ideas"})
    assert approved.status_code == 303 and approved.headers["location"] == "/admin/ideas"
    assert (await client.get("/api/v1/ideas")).json()["total"] == 1
    hidden = await post_form(client, f"/ideas/{idea.id}/moderate", {"action": "hide", "reason": "ألفاظ مسيئة"})
    assert hidden.status_code == 303
    assert (await client.get("/api/v1/ideas")).json()["total"] == 0
    client.cookies.clear()
    citizen = await make_user(db)
    await sign_in(client, citizen.email)
    assert (await client.get("/admin/ideas")).status_code == 403


def test_the_moderation_mode_is_read_from_the_environment_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from voice import platform

    monkeypatch.setenv("VOICE_IDEAS_PREMODERATION", "on")
    assert IdeasSettings.from_env().premoderation is True
    assert platform.sections()["ideas"] == IdeasSettings(premoderation=True)
    monkeypatch.setenv("VOICE_IDEAS_PREMODERATION", "off")
    assert IdeasSettings.from_env().premoderation is False
    monkeypatch.delenv("VOICE_IDEAS_PREMODERATION")
    assert IdeasSettings.from_env() == IdeasSettings(premoderation=False)


async def test_premoderation_setting_holds_every_new_idea(database_url: str, db: AsyncSession) -> None:
    """An app started with the ideas section in pre-moderation mode (what VOICE_IDEAS_PREMODERATION=on
    gives at start-up) holds every new idea, even one the word filter lets through."""
    from asgi_lifespan import LifespanManager

    from tests.conftest import test_settings
    from voice.app import create_app

    author = await make_user(db)
    token = await make_token(db, author)
    app = create_app(test_settings(database_url), sections={"ideas": IdeasSettings(premoderation=True)})
    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                       base_url="http://testserver") as client:
        response = await client.post("/api/v1/ideas", json={"title": REMINDER[0], "description": REMINDER[1]},
                                     headers=bearer(token))
    assert response.status_code == 201 and response.json()["public"] is False
    idea = await db.scalar(select(Idea))
    assert idea.moderation is IdeaModeration.PENDING and not idea.held_for_review


async def test_bad_input_is_refused_clearly_and_stores_nothing(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    author = await make_user(db)
    await sign_in(client, author.email)
    good = {"title": REMINDER[0], "description": REMINDER[1], "category": "digital_services"}
    cases = {
        "short title": ({"title": "فكرة"}, "title"),
        "empty description": ({"description": "   "}, "description"),
        "script": ({"description": 'فكرة <script>alert("x")</script> جميلة'}, "description"),
        "oversized": ({"description": "ا" * 5001}, "description"),
        "unknown category": ({"category": "rant"}, "category"),
        "unknown agency": ({"agency": "nope"}, "agency"),
        "service of no agency": ({"service": "renewal"}, "service"),
    }
    for name, (change, _field) in cases.items():
        response = await post_form(client, "/ideas", {**good, **change})
        assert response.status_code == 422, name
        assert 'lang="ar"' in response.text and "is-invalid" in response.text, name
    bidi = await post_form(client, "/ideas", {**good, "description": "الخدمة \u202eسيئة جدا\u202c اليوم"})
    assert bidi.status_code == 400 and "رموز خفية لتغيير اتجاه الكتابة" in bidi.text  # voice.web.hygiene
    token = await make_token(db, author)
    api = await client.post("/api/v1/ideas", json={"title": "x", "description": "قصير"},
                            headers={**bearer(token), "Accept-Language": "en"})
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/problem+json")
    assert {"title", "description"} <= set(api.json()["errors"])
    unknown = await client.post("/api/v1/ideas", json={**good, "votes": 99}, headers=bearer(token))
    assert unknown.status_code == 400
    assert await db.scalar(select(func.count()).select_from(Idea)) == 0


async def test_who_may_share_ideas(client: httpx.AsyncClient, db: AsyncSession) -> None:
    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    token = await make_token(db, staff)
    response = await client.post("/api/v1/ideas", json={"title": REMINDER[0], "description": REMINDER[1]},
                                 headers=bearer(token))
    assert response.status_code == 403
    page = await client.get("/ideas/new")
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert await db.scalar(select(func.count()).select_from(Idea)) == 0


async def test_api_requires_a_token_to_write(client: httpx.AsyncClient, db: AsyncSession) -> None:
    author = await make_user(db)
    idea = await make_idea(db, author, REMINDER)
    for method, url in [("POST", "/api/v1/ideas"), ("POST", f"/api/v1/ideas/{idea.id}/vote"),
                        ("DELETE", f"/api/v1/ideas/{idea.id}/vote")]:
        response = await client.request(method, url, json={"title": PARKING[0], "description": PARKING[1]}
                                        if method == "POST" else None)
        assert response.status_code == 401, url
        assert response.headers["content-type"].startswith("application/problem+json")
    bad_token = await client.post("/api/v1/ideas", json={"title": PARKING[0], "description": PARKING[1]},
                                  headers=bearer("not-a-token"))
    assert bad_token.status_code == 401
    assert await db.scalar(select(func.count()).select_from(Idea)) == 1
    token = await make_token(db, author)
    created = await client.post("/api/v1/ideas", json={"title": PARKING[0], "description": PARKING[1],
                                                       "category": "efficiency"}, headers=bearer(token))
    assert created.status_code == 201
    body = created.json()
    assert body["public"] is True and body["status"] == "submitted" and body["category"] == "efficiency"
    assert (await client.get("/api/v1/ideas/999999")).status_code == 404
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/ideas/similar" in schema["paths"] and "/api/v1/ideas/{idea_id}/vote" in schema["paths"]


async def test_browse_filters_sorts_and_searches(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_agency(db, "passports")
    author = await make_user(db)
    reminder = await make_idea(db, author, REMINDER, agency="passports", category="digital_services")
    parking = await make_idea(db, author, PARKING, category="efficiency")
    await make_idea(db, author, CLINIC, category="accessibility")
    voter = await make_user(db)
    await IdeaParticipationService(session=db).vote(parking.id, voter)
    await db.commit()
    top = (await client.get("/api/v1/ideas", params={"sort": "top"})).json()
    assert top["items"][0]["id"] == parking.id and top["total"] == 3
    trending = (await client.get("/api/v1/ideas", params={"sort": "trending"})).json()
    assert trending["items"][0]["id"] == parking.id
    newest = (await client.get("/api/v1/ideas", params={"sort": "newest"})).json()
    assert newest["items"][-1]["id"] == reminder.id
    by_agency = (await client.get("/api/v1/ideas", params={"agency": "passports"})).json()
    assert [i["id"] for i in by_agency["items"]] == [reminder.id]
    by_category = (await client.get("/api/v1/ideas", params={"category": "efficiency"})).json()
    assert [i["id"] for i in by_category["items"]] == [parking.id]
    # Arabic search across spelling variants: "المستشفيات" meets "مستشفيات".
    found = await client.get("/ideas", params={"q": "مستشفيات"})
    assert found.status_code == 200 and PARKING[0] in found.text and REMINDER[0] not in found.text
    assert (await client.get("/api/v1/ideas", params={"sort": "random"})).status_code == 400
    page = await client.get("/ideas", params={"page": 2})
    assert page.status_code == 200


async def test_demo_ideas_load(db: AsyncSession) -> None:
    import random

    from ideas.demo import load_ideas
    from voice.catalogue.services import AgencyService
    from voice.demo.loader import _people, read

    agencies = {a.slug: a for a in [await AgencyService(session=db).upsert(item) for item in read("agencies.json")]}
    users = await _people(db, agencies)
    assert await load_ideas(db, users, agencies, random.Random(2026)) == 70
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(Idea).where(Idea.is_public)) == 70
    assert await db.scalar(select(func.count()).select_from(Idea).where(Idea.status == IdeaStatus.WINNER)) == 3
    assert await db.scalar(select(func.count()).select_from(IdeaComment).where(IdeaComment.parent_id.isnot(None)))


async def test_ideas_are_clustered_into_themes_and_new_ones_join_them(client, db, run_jobs) -> None:
    """Themes for ideas: an admin refreshes them (a background job); a later idea joins its theme."""
    from sqlalchemy import select

    from ideas.models import Idea
    from tests.conftest import post_form
    from tests.factories import PASSWORD, make_user
    from voice.accounts.models import Role
    from voice.themes.models import Theme

    author = await make_user(db, Role.CITIZEN)
    admin = await make_user(db, Role.ADMIN)
    topics = {
        "appointments": ["حجز المواعيد إلكترونياً في كل الفروع", "نظام مواعيد موحد لكل الجهات",
                         "تذكير بالموعد برسالة قبل يوم", "إلغاء الموعد وتغييره من التطبيق"],
        "payments": ["الدفع عبر أبل باي في كل الخدمات", "سداد الرسوم بالتقسيط إلكترونياً",
                     "إيصال إلكتروني فوري بعد الدفع", "ربط الدفع بمحفظة رقمية واحدة"],
        "accessibility": ["قارئ شاشة يدعم العربية في المواقع الحكومية", "تكبير الخط وتباين الألوان لكبار السن",
                          "ترجمة بلغة الإشارة للمقاطع", "واجهة مبسطة لذوي الإعاقة البصرية"],
    }
    assert (await post_form(client, "/signin", {"email": author.email, "password": PASSWORD})).status_code == 303
    for texts in topics.values():
        for text in texts:
            r = await post_form(client, "/ideas", {"title": text, "description": f"{text}. فكرة لتحسين الخدمات الإلكترونية",
                                                   "category": "digital_services"})
            assert r.status_code == 303, r.text[:300]
    await post_form(client, "/signout", {})
    await post_form(client, "/signin", {"email": admin.email, "password": PASSWORD})
    assert (await post_form(client, "/admin/ideas/themes/refresh", {})).status_code == 303
    await run_jobs()
    themes = (await db.scalars(select(Theme).where(Theme.scope == "ideas", Theme.retired.is_(False)))).all()
    assert len(themes) >= 2
    assert all(i.theme_id is not None for i in (await db.scalars(select(Idea).execution_options(
        populate_existing=True))).all())
    browse = await client.get("/ideas")
    assert 'id="i-theme"' in browse.text
