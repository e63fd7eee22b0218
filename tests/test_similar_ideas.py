"""Similar-idea search from the vectors stored in the database (no index in any process): a near-duplicate
is found and unrelated ideas are not; hidden, pending, withdrawn and merged ideas never answer; an idea
is not similar to itself; an idea shared a moment ago is found before the background job ran and its
vector is then stored; an edited idea is found by its new words; the ranking is the exact one on a
server without pgvector (real[] scan) and through the HNSW index with it; without an encoder the
search is full-text; anonymous visitors never see who shared a blind-judged idea."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.authoring import IdeaAuthorService
from ideas.lifecycle import IdeaLifecycleService
from ideas.models import Idea, IdeaCategory, IdeaModeration
from ideas.moderation import IdeaModerationService
from ideas.services import IdeaDraft, IdeaService
from ideas.settings import IdeasSettings
from ideas.similar import QUERY_WORDS, similar_ideas
from tests.factories import make_user
from tests.test_ideas import CLINIC, PARKING, REMINDER, REMINDER_PARAPHRASE, make_idea, sign_in
from voice.accounts.models import Role, User
from voice.themes.models import TextEmbedding
from voice.themes.vectors import configured_encoder, load, store

# The same request as REMINDER in other words, shared again by other people.
TWINS = [("تنبيه قبل انتهاء المستندات الرسمية",
          "إرسال تنبيه قبل انتهاء الهوية والجواز ورخصة القيادة بشهر مع رابط مباشر للتجديد"),
         ("رسالة تنبيه قبل انتهاء الوثائق",
          "تنبيه واحد قبل انتهاء الهوية أو الجواز أو رخصة القيادة بشهر ورابط للتجديد المباشر")]


async def stored_ids(db: AsyncSession) -> set[int]:
    return set((await db.scalars(select(TextEmbedding.text_id).where(
        TextEmbedding.kind == "ideas", TextEmbedding.encoder == configured_encoder()))).all())


async def test_a_near_duplicate_is_found_and_ideas_off_the_lists_never_are(db: AsyncSession, run_jobs) -> None:
    author, other = await make_user(db), await make_user(db)
    admin = await make_user(db, Role.ADMIN)
    reminder = await make_idea(db, author, REMINDER)
    parking = await make_idea(db, author, PARKING)
    clinic = await make_idea(db, author, CLINIC)
    hidden = await make_idea(db, other, TWINS[0])
    withdrawn = await make_idea(db, other, TWINS[1])
    merged = await make_idea(db, other, (REMINDER[0] + " للجميع", REMINDER[1]))
    pending = await IdeaService(session=db).submit(IdeaDraft(title=REMINDER[0], description=REMINDER[1] + " فورا"),
                                                  other, settings=_premoderated())
    await IdeaModerationService(session=db).moderate(admin, hidden.id, "hide", "مكررة")
    await IdeaAuthorService(session=db).withdraw(other, withdrawn.id)
    await IdeaLifecycleService(session=db).merge(admin, merged.id, reminder.id)
    await db.commit()
    assert not pending.is_public and pending.moderation is IdeaModeration.PENDING

    # The background job has not run: the listed ideas are found anyway, and their vectors stored.
    assert await stored_ids(db) == set()
    ideas = IdeaService(session=db)
    hits = await ideas.similar(" ".join(REMINDER_PARAPHRASE), k=5)
    assert [i.id for i, _ in hits][:1] == [reminder.id]
    found = {i.id for i, _ in hits}
    assert not found & {hidden.id, withdrawn.id, merged.id, pending.id}
    assert parking.id not in found and clinic.id not in found  # unrelated: under the encoder's threshold
    await db.commit()
    assert await stored_ids(db) == {reminder.id, parking.id, clinic.id}

    # The job stores every idea's vector; hidden, withdrawn, pending and merged ones still never answer.
    await run_jobs()
    assert await stored_ids(db) == {reminder.id, parking.id, clinic.id, hidden.id, withdrawn.id, merged.id,
                                    pending.id}
    again = await ideas.similar(REMINDER[0] + "\n" + REMINDER[1], k=10)
    assert again[0][0].id == reminder.id and again[0][1] > 0.99
    assert not {i.id for i, _ in again} & {hidden.id, withdrawn.id, merged.id, pending.id}

    # An idea is not similar to itself; its twin, once shown again, is.
    assert reminder.id not in {i.id for i, _ in await ideas.similar(" ".join(REMINDER), exclude=reminder.id)}
    await IdeaModerationService(session=db).moderate(admin, hidden.id, "show")
    await db.commit()
    twin = await ideas.similar(" ".join(REMINDER), exclude=reminder.id)
    assert twin and twin[0][0].id == hidden.id


def _premoderated() -> IdeasSettings:
    return IdeasSettings(premoderation=True)


async def test_an_edited_idea_is_found_by_its_new_words(db: AsyncSession) -> None:
    author = await make_user(db)
    idea = await make_idea(db, author, PARKING)
    ideas = IdeaService(session=db)
    assert [i.id for i, _ in await ideas.similar(" ".join(PARKING))] == [idea.id]
    await db.commit()
    assert await stored_ids(db) == {idea.id}
    await IdeaAuthorService(session=db).edit(author, idea.id, IdeaDraft(title=REMINDER[0], description=REMINDER[1]))
    await db.commit()
    assert await stored_ids(db) == set()  # the old words' vector is gone
    assert [i.id for i, _ in await ideas.similar(" ".join(REMINDER_PARAPHRASE))] == [idea.id]
    assert await ideas.similar(" ".join(PARKING)) == []


class TableEncoder:
    """Stands in for e5 at the edge (same name and dimension, so the search goes through e5's HNSW index):
    each text's vector is given by the test."""

    name, dim = "e5", 384

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


async def test_the_ranking_is_the_exact_one_on_either_column_type(db: AsyncSession) -> None:
    """Run on both servers: without pgvector (real[], an exact scan) and with it (HNSW, approximate; exact
    on 60 ideas). Either way the ranking and scores are numpy's exact cosine over the listed ideas."""
    author = await make_user(db)
    ideas = [await _bare_idea(db, author, n) for n in range(60)]
    rng = np.random.default_rng(7)
    raw = rng.standard_normal((60, 384)).astype(np.float32)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    await store(db, "ideas", "e5", {idea.id: unit[n] for n, idea in enumerate(ideas)})
    off_list = {ideas[n].id for n in (3, 11, 12)}  # hidden by a moderator, so never an answer
    await db.execute(update(Idea).where(Idea.id.in_(off_list)).values(is_public=False,
                                                                      moderation=IdeaModeration.HIDDEN))
    await db.commit()
    query = unit[3] + 0.6 * unit[11] + 0.5 * unit[40] + 0.4 * unit[7]  # closest to the hidden ones first
    query = (query / np.linalg.norm(query)).astype(np.float32)
    encoder = TableEncoder({"typed text": query})

    found = await similar_ideas(db, encoder, "typed text", k=5, exclude=ideas[40].id, min_score=-1)
    exact = sorted(((idea.id, float(unit[n] @ query)) for n, idea in enumerate(ideas)
                    if idea.id not in off_list | {ideas[40].id}), key=lambda pair: -pair[1])[:5]
    assert [i.id for i, _ in found] == [i for i, _ in exact]
    assert found[0][0].id == ideas[7].id
    for (_, got), (_, want) in zip(found, exact, strict=True):
        assert abs(got - want) < 1e-3
    # The threshold cuts the tail.
    above = [i for i, s in sorted(((idea.id, float(unit[n] @ query)) for n, idea in enumerate(ideas)
                                       if idea.id not in off_list), key=lambda pair: -pair[1]) if s >= 0.2]
    assert above and [i.id for i, _ in await similar_ideas(db, encoder, "typed text", k=5, min_score=0.2)] == above


async def _bare_idea(db: AsyncSession, author: User, n: int) -> Idea:
    idea = Idea(title=f"فكرة {n}", description=f"وصف {n}", description_public=f"وصف {n}", problem="",
                problem_public="", author_id=author.id, author_kind=author.kind, is_public=True,
                category=IdeaCategory.OTHER, search_text=f"فكرة {n}")
    db.add(idea)
    await db.flush()
    return idea


async def test_a_just_shared_idea_is_ranked_with_the_stored_ones(db: AsyncSession) -> None:
    """The fallback encodes the newest ideas without a vector together with the query and stores them,
    so the ranking is the one the stored vectors give."""
    author = await make_user(db)
    old, new = await _bare_idea(db, author, 1), await _bare_idea(db, author, 2)
    rng = np.random.default_rng(3)
    a, b, q = (v / np.linalg.norm(v) for v in rng.standard_normal((3, 384)).astype(np.float32))
    query = (q + 2 * b + a) / np.linalg.norm(q + 2 * b + a)
    await store(db, "ideas", "e5", {old.id: a})
    await db.commit()
    encoder = TableEncoder({"typed text": query, f"{new.title} {new.description_public}": b})
    found = await similar_ideas(db, encoder, "typed text", k=5, min_score=-1)
    assert [(i.id, s) for i, s in found] == [(new.id, round(float(b @ query), 4)), (old.id, round(float(a @ query), 4))]
    assert sorted(await load(db, "ideas", "e5", [old.id, new.id])) == [old.id, new.id]


async def test_a_long_draft_is_searched_by_its_opening_words(db: AsyncSession) -> None:
    """Whatever follows the title and the opening of the description changes neither the text encoded
    (nor so its cost) nor the ideas found."""
    author = await make_user(db)
    stored = await _bare_idea(db, author, 1)
    rng = np.random.default_rng(5)
    a, q = (v / np.linalg.norm(v) for v in rng.standard_normal((2, 384)).astype(np.float32))
    await store(db, "ideas", "e5", {stored.id: a})
    await db.commit()
    opening = " ".join(f"كلمة{n}" for n in range(QUERY_WORDS))
    encoder = TableEncoder({opening: q})
    short = await similar_ideas(db, encoder, opening, k=5, min_score=-1)
    long = await similar_ideas(db, encoder, f"{opening}\n" + "تفاصيل كثيرة أخرى " * 400, k=5, min_score=-1)
    assert [(i.id, s) for i, s in long] == [(i.id, s) for i, s in short] == [(stored.id, round(float(a @ q), 4))]


async def test_without_an_encoder_the_search_is_full_text(db: AsyncSession) -> None:
    author = await make_user(db)
    reminder, parking = await make_idea(db, author, REMINDER), await make_idea(db, author, PARKING)
    hidden = await make_idea(db, author, TWINS[0])
    await IdeaModerationService(session=db).moderate(await make_user(db, Role.ADMIN), hidden.id, "hide", "مكررة")
    await db.commit()
    found = await similar_ideas(db, None, "تنبيه قبل انتهاء الجواز", k=5)
    assert found and found[0][0].id == reminder.id and hidden.id not in {i.id for i, _ in found}
    assert parking.id not in {i.id for i, _ in await similar_ideas(db, None, "انتهاء الجواز", k=5)}
    assert await db.scalar(select(func.count()).select_from(TextEmbedding)) == 0


async def test_anonymous_visitors_never_see_who_shared_a_blind_judged_idea(client: httpx.AsyncClient,
                                                                             db: AsyncSession) -> None:
    author = await make_user(db)
    author.display_name = "سلمى صاحبة الفكرة"
    idea = await make_idea(db, author, REMINDER)
    idea.attribution_withheld = True  # an entry of a blind award branch being judged
    open_idea = await make_idea(db, author, TWINS[1])
    await db.commit()
    client.cookies.clear()
    api = await client.get("/api/v1/ideas/similar", params={"q": " ".join(REMINDER)})
    panel = await client.get("/ideas/similar-panel", params={"title": REMINDER[0], "description": REMINDER[1]})
    assert api.status_code == panel.status_code == 200
    assert idea.id in {i["id"] for i in api.json()} and f'/ideas/{idea.id}"' in panel.text
    assert open_idea.id in {i["id"] for i in api.json()}
    for page in (api, panel):
        assert author.display_name not in page.text and author.email not in page.text
        assert "مستخدم" not in page.text  # the factory's full name


@pytest.mark.slow  # loads a second sentence encoder (USE)
async def test_after_a_change_of_encoder_the_old_vectors_keep_serving(db: AsyncSession,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import voice.themes.vectors as vectors
    from nlp import get_encoder

    monkeypatch.setattr(vectors, "_coverage", {})  # this test's counts stay in this test
    monkeypatch.setattr(vectors, "COVERAGE_SECONDS", 0)
    author = await make_user(db)
    reminder, parking = await make_idea(db, author, REMINDER), await make_idea(db, author, PARKING)
    texts = {i.id: f"{i.title} {i.description_public}" for i in (reminder, parking)}
    e5, use = get_encoder("e5"), get_encoder("use")
    await store(db, "ideas", "e5", dict(zip(texts, e5.encode(list(texts.values())), strict=True)))
    await db.commit()

    # The operator switches to USE: until the job has encoded the ideas again, e5's vectors answer.
    monkeypatch.setenv("VOICE_ENCODER", "use")
    ideas = IdeaService(session=db)
    hits = await ideas.similar(" ".join(REMINDER_PARAPHRASE))
    assert [i.id for i, _ in hits] == [reminder.id] and hits[0][1] > 0.92  # e5's scale
    assert await db.scalar(select(func.count()).select_from(TextEmbedding).where(TextEmbedding.encoder == "use")) == 0

    await store(db, "ideas", "use", dict(zip(texts, use.encode(list(texts.values())), strict=True)))
    await db.commit()
    hits = await ideas.similar(" ".join(REMINDER_PARAPHRASE))
    assert [i.id for i, _ in hits] == [reminder.id] and 0.56 < hits[0][1] < 0.9  # USE's scale


async def test_moderators_see_the_ideas_that_may_duplicate_the_one_they_read(client: httpx.AsyncClient,
                                                                           db: AsyncSession) -> None:
    author, other = await make_user(db), await make_user(db)
    admin = await make_user(db, Role.ADMIN)
    reminder = await make_idea(db, author, REMINDER)
    twin, hidden = await make_idea(db, other, TWINS[0]), await make_idea(db, other, TWINS[1])
    parking = await make_idea(db, other, PARKING)
    await IdeaModerationService(session=db).moderate(admin, hidden.id, "hide", "مكررة")
    await db.commit()

    await sign_in(client, admin.email)
    page = await client.get(f"/ideas/{reminder.id}")
    assert page.status_code == 200 and 'data-testid="possible-duplicates"' in page.text
    listed = page.text.split('data-testid="possible-duplicates"')[1].split("</ul>")[0]
    assert f'href="/ideas/{twin.id}"' in listed and f"#{_arabic(twin.id)}" in listed
    for absent in (reminder, hidden, parking):  # itself, hidden by a moderator, unrelated
        assert f'href="/ideas/{absent.id}"' not in listed
    client.cookies.clear()
    await sign_in(client, other.email)
    assert 'data-testid="possible-duplicates"' not in (await client.get(f"/ideas/{reminder.id}")).text


def _arabic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
