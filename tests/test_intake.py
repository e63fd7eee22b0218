"""Group commit of feedback submissions: batching rules, and the intake queue against real PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.factories import make_agency
from voice.batching import GroupCommit
from voice.feedback.intake.queue import IntakeQueue
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.statement import IntakeRow
from voice.feedback.intake.submission import Submission, validate
from voice.feedback.models import Event, Feedback, IdempotencyKey

BODY = "لا أستطيع تجديد الجواز من خلال الموقع منذ يومين"


class Recorder:
    """A store function that records its batches; ``gate`` holds a batch until the test opens it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.running = 0
        self.most_running = 0

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
        finally:
            self.running -= 1
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


async def test_a_lone_item_is_stored_at_once() -> None:
    store = Recorder()
    group = GroupCommit(store)
    assert await asyncio.wait_for(group.submit(4), timeout=1) == 40
    assert store.batches == [[4]]


async def test_items_arriving_while_a_batch_runs_share_the_next_one() -> None:
    store = Recorder()
    store.gate.clear()
    group = GroupCommit(store, max_in_flight=1)
    first = asyncio.ensure_future(group.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(group.submit(i)) for i in (2, 4, 6, 8)]
    await asyncio.sleep(0)
    assert store.batches == [[0]]  # the others wait for the one in flight
    store.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [20, 40, 60, 80]
    assert store.batches == [[0], [2, 4, 6, 8]]
    assert (group.batches, group.items) == (2, 5)


async def test_batches_in_flight_and_batch_size_are_bounded() -> None:
    store = Recorder()
    store.gate.clear()
    group = GroupCommit(store, max_batch=3, max_in_flight=2)
    futures = [asyncio.ensure_future(group.submit(i * 2)) for i in range(10)]
    await asyncio.sleep(0.01)
    assert store.running == 2
    store.gate.set()
    assert await asyncio.gather(*futures) == [i * 20 for i in range(10)]
    assert store.most_running == 2 and max(len(b) for b in store.batches) == 3
    assert sorted(i for b in store.batches for i in b) == [i * 2 for i in range(10)]


async def test_an_item_error_reaches_only_its_caller() -> None:
    group = GroupCommit(Recorder())
    results = await asyncio.gather(*(group.submit(i) for i in range(4)), return_exceptions=True)
    assert results[0] == 0 and results[2] == 20
    assert isinstance(results[1], ValueError) and str(results[1]) == "odd 1"
    assert isinstance(results[3], ValueError)


async def test_a_failed_batch_fails_every_caller_of_that_batch_only() -> None:
    calls: list[list[int]] = []

    async def store(items: list[int]) -> list[int]:
        calls.append(items)
        await asyncio.sleep(0)
        if 13 in items:
            raise ConnectionError("database went away")
        return items

    group = GroupCommit(store, max_in_flight=1)
    first = asyncio.ensure_future(group.submit(1))
    await asyncio.sleep(0)
    doomed = [asyncio.ensure_future(group.submit(i)) for i in (12, 13)]
    results = await asyncio.gather(first, *doomed, return_exceptions=True)
    assert results[0] == 1
    assert all(isinstance(r, ConnectionError) for r in results[1:])
    assert await group.submit(14) == 14  # the next batch goes on


async def test_items_with_the_same_conflict_key_never_share_a_batch() -> None:
    store = Recorder()
    store.gate.clear()
    group = GroupCommit(store, max_in_flight=1, conflict_key=lambda i: i % 4)
    futures = [asyncio.ensure_future(group.submit(i)) for i in (0, 2, 4, 6, 8)]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(*futures)
    for batch in store.batches:
        keys = [i % 4 for i in batch]
        assert len(keys) == len(set(keys)), store.batches
    assert sorted(i for b in store.batches for i in b) == [0, 2, 4, 6, 8]


async def test_a_caller_that_goes_away_still_has_its_item_stored() -> None:
    store = Recorder()
    store.gate.clear()
    group = GroupCommit(store)
    caller = asyncio.ensure_future(group.submit(6))
    await asyncio.sleep(0)
    caller.cancel()
    store.gate.set()
    await group.drain()
    assert store.batches == [[6]]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        GroupCommit(Recorder(), max_batch=0)


# ----- the intake queue on PostgreSQL -------------------------------------------------------------

@pytest.fixture
async def queue(database_url: str, db: AsyncSession):
    engine = create_async_engine(database_url, pool_size=4)
    yield IntakeQueue(engine, max_batch=16, max_in_flight=2)
    await engine.dispose()


async def _submit(engine_url: str, queue: IntakeQueue, sub: Submission, key: str | None = None):
    """One request's worth: its own session, the shared queue."""
    engine = create_async_engine(engine_url, pool_size=1)
    try:
        async with AsyncSession(engine) as session:
            service = IntakeService(session, queue=queue)
            if key is None:
                return await service.receive(sub)
            return await service.submit_idempotent(sub, key, "anonymous", (sub.body + key).encode())
    finally:
        await engine.dispose()


async def test_concurrent_submissions_are_stored_in_few_statements(database_url: str, db: AsyncSession,
                                                                   queue: IntakeQueue) -> None:
    agency = await make_agency(db, "passports")
    agency.publish_after_review = True
    await db.commit()
    subs = [Submission(agency="passports", service="renewal" if i % 2 else None, body=f"{BODY} ({i})",
                       publish=i % 3 == 0, rating=1 + i % 5) for i in range(40)]
    receipts = await asyncio.gather(*(_submit(database_url, queue, s) for s in subs))
    batches, rows = queue.counts
    assert rows == 40 and batches < 40
    assert len({r.id for r in receipts}) == 40 and len({r.tracking_code for r in receipts}) == 40
    stored = {f.id: f for f in (await db.scalars(select(Feedback))).all()}
    for sub, receipt in zip(subs, receipts, strict=True):
        item = stored[receipt.id]
        assert (item.body, item.tracking_code, item.rating) == (sub.body, receipt.tracking_code, sub.rating)
        assert item.service_id is not None if sub.service else item.service_id is None
        # A publishing agency that reviews first: published items wait as pending, none is public yet.
        assert item.moderation.value == ("pending" if sub.publish else "visible") and not item.is_public
    events = await db.scalar(select(func.count()).select_from(Event).where(Event.kind == "created"))
    assert events == 40


async def test_one_key_sent_many_times_at_once_stores_one_item(database_url: str, db: AsyncSession,
                                                               queue: IntakeQueue) -> None:
    await make_agency(db, "passports")
    sub = Submission(agency="passports", body=BODY)
    answers = await asyncio.gather(*(_submit(database_url, queue, sub, key="one-key-many-tries") for _ in range(10)))
    assert {status for status, _ in answers} == {201}
    assert len({answer["id"] for _, answer in answers}) == 1
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 1
    assert await db.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


async def test_a_row_the_database_refuses_fails_alone(database_url: str, db: AsyncSession,
                                                      queue: IntakeQueue) -> None:
    """Validation keeps bad rows out; should one reach the database anyway, its batch-mates are stored."""
    await make_agency(db, "passports")
    good = [validate(Submission(agency="passports", body=f"{BODY} {i}"), None) for i in range(5)]
    bad = good[0].__class__(**{**good[0].__dict__, "language": "a-language-code-longer-than-its-column-allows"})
    from datetime import UTC, datetime

    from voice.feedback.tracking import new_tracking_code

    rows = [IntakeRow(intake=i, code=new_tracking_code(), now=datetime.now(UTC), user_id=None) for i in [*good, bad]]
    results = await asyncio.gather(*(queue.store(r) for r in rows), return_exceptions=True)
    assert all(not isinstance(r, BaseException) and r.id for r in results[:5]), results
    assert isinstance(results[5], Exception)
    assert await db.scalar(select(func.count()).select_from(Feedback)) == 5


async def test_invalid_rows_in_a_batch_store_nothing_and_say_why(database_url: str, db: AsyncSession,
                                                                 queue: IntakeQueue) -> None:
    await make_agency(db, "passports")
    from voice.errors import ValidationFailed

    subs = [Submission(agency="passports", body=BODY), Submission(agency="nope", body=BODY),
            Submission(agency="passports", service="ghost", body=BODY)]
    results = await asyncio.gather(*(_submit(database_url, queue, s, key=f"key-number-{i}") for i, s in enumerate(subs)),
                                   return_exceptions=True)
    assert results[0][0] == 201
    assert isinstance(results[1], ValidationFailed) and "agency" in results[1].errors
    assert isinstance(results[2], ValidationFailed) and "service" in results[2].errors
    keys = (await db.scalars(select(IdempotencyKey.key))).all()
    assert keys == ["key-number-0"]  # refused requests leave their keys free
    assert hashlib.sha256((BODY + "key-number-0").encode()).hexdigest() == (
        await db.scalar(select(IdempotencyKey.request_hash)))


async def test_api_submissions_under_concurrency_all_land(client: httpx.AsyncClient, db: AsyncSession,
                                                          app: object) -> None:
    await make_agency(db, "passports")
    batches_before, rows_before = app.state.intake.counts  # type: ignore[attr-defined]
    payloads = [{"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": f"{BODY} {i}"}
                for i in range(30)]
    answers = await asyncio.gather(*(client.post("/api/v1/feedback", json=p, headers={"Idempotency-Key": f"k-{i:08d}"})
                                     for i, p in enumerate(payloads)))
    assert [a.status_code for a in answers] == [201] * 30
    batches, rows = app.state.intake.counts  # type: ignore[attr-defined]
    assert rows - rows_before == 30 and batches - batches_before < 30
    stored = (await db.execute(text("SELECT tracking_code, body FROM feedback"))).all()
    assert {(a.json()["tracking_code"], p["body"]) for a, p in zip(answers, payloads, strict=True)} == set(stored)


async def test_the_json_intake_opens_no_session_of_its_own(client: httpx.AsyncClient, db: AsyncSession,
                                                           app: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid API submission is stored through the process's queue: the request never opens a session
    (creating one per request cost about 4 % of the intake's CPU). An invalid one opens it to say why."""
    await make_agency(db, "passports")
    config = app.state.db_config  # type: ignore[attr-defined]
    opened: list[object] = []
    provide = type(config).provide_session

    def counting(self: object, *args: object, **kwargs: object) -> object:
        opened.append(self)
        return provide(self, *args, **kwargs)

    monkeypatch.setattr(type(config), "provide_session", counting)
    payload = {"agency": "passports", "kind": "complaint", "submitter_kind": "individual", "body": BODY}
    assert (await client.post("/api/v1/feedback", json=payload)).status_code == 201
    assert (await client.post("/api/v1/feedback", json=payload, headers={"Idempotency-Key": "k-00000001"})
            ).status_code == 201
    assert opened == []
    refused = await client.post("/api/v1/feedback", json={**payload, "agency": "nope"})
    assert refused.status_code == 422 and len(opened) == 1
