"""Ideas that already say what someone is typing, found in the database every process shares.

The text typed is new, so it is encoded here, once, with the configured encoder; the ideas' own vectors
were stored by the background job after they were shared (``voice.themes.vectors``), and the search is
one query: pgvector's HNSW index where the extension exists, an exact scan of the ``real[]`` column
elsewhere. Only listed ideas answer (public, not merged away; hidden, pending and withdrawn ones never),
and results carry no author: callers show titles and public descriptions only.

An idea shared a moment ago may have no vector yet. The newest listed ideas without one are looked up
in SQL (``WINDOW``), the few that share words with the text first (full-text rank), encoded with the
text in the same call and stored, so this search and every later one rank them exactly as they will
rank once the job has run. No process builds an index of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, Text, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from ideas.models import Idea
from nlp.embeddings import Encoder
from voice.text import query_terms
from voice.themes.models import TextEmbedding
from voice.themes.sources import source
from voice.themes.vectors import encode_here, load, nearest, related_above, store

KIND = "ideas"  # the theme scope whose vectors ideas' texts are stored under
WINDOW = 256  # newest listed ideas checked for a missing vector (the job encodes within seconds)
FRESH = 8  # at most this many of them encoded along with the query
MAX_TERMS = 32
# A draft is searched by its first words: the title and the opening of the description say what it is
# about, and e5's cost grows with the text (on one AVX2 core: 16 tokens 11 ms, 48 tokens 25 ms, 128
# tokens 64 ms), so a long draft would slow every keystroke's search. On the benchmark's 100k ideas the
# cut leaves 97 % of the five ideas found as they were (docs/benchmarks.md, "Similar ideas").
QUERY_WORDS = 48
# Without any encoder installed: full-text rank, normalized to [0, 1) (rank / (rank + 1)).
LEXICAL_MIN_SCORE = 0.05


async def similar_ideas(session: AsyncSession, encoder: Encoder | None, text: str, k: int = 5,
                        exclude: int | None = None, min_score: float | None = None) -> list[tuple[Idea, float]]:
    """Listed ideas that say something close to ``text``, best first, as (idea, score).

    The score is the cosine of ``encoder``'s vectors (the configured encoder, ``query_encoder()``); with
    no encoder installed (None), the search is full-text only and the score its normalized rank.
    ``exclude`` leaves one idea out (an idea is not similar to itself). ``min_score`` defaults to the
    encoder's threshold (``voice.themes.vectors.related_above``)."""
    text = " ".join((text or "")[:20_000].split()[:QUERY_WORDS])
    if len(text.replace(" ", "")) < 4:
        return []
    if encoder is None:
        hits = await _lexical(session, text, k, exclude, LEXICAL_MIN_SCORE if min_score is None else min_score)
    else:
        hits = await _semantic(session, encoder, text, k, exclude,
                               related_above(encoder.name) if min_score is None else min_score)
    return await _ideas(session, hits)


async def _ideas(session: AsyncSession, hits: list[tuple[int, float]]) -> list[tuple[Idea, float]]:
    if not hits:
        return []
    # The idea's own columns only: callers show its title, public description and votes, never the
    # author, agency or theme that Idea joins by default (six tables for five rows on every keystroke).
    ideas = {i.id: i for i in (await session.scalars(select(Idea).options(raiseload("*")).where(
        Idea.id.in_([i for i, _ in hits]), Idea.listed()))).unique().all()}
    return [(ideas[i], s) for i, s in hits if i in ideas]


def _listed(exclude: int | None) -> list[ColumnElement[bool]]:
    conditions = [Idea.listed()]
    if exclude is not None:
        conditions.append(Idea.id != exclude)
    return conditions


async def similar_to_idea(session: AsyncSession, encoder: Encoder | None, idea: Idea, k: int = 5,
                          min_score: float | None = None) -> list[tuple[Idea, float]]:
    """Listed ideas close to ``idea``, itself left out (possible duplicates, for a moderator): searched
    with its stored vector when it has one, so nothing is encoded."""
    vector = (await load(session, KIND, encoder.name, [idea.id])).get(idea.id) if encoder is not None else None
    if vector is None or len(vector) != encoder.dim:
        return await similar_ideas(session, encoder, f"{idea.title} {idea.description_public}", k=k,
                                   exclude=idea.id, min_score=min_score)
    hits = await _semantic(session, encoder, "", k, idea.id,
                           related_above(encoder.name) if min_score is None else min_score, vector)
    return await _ideas(session, hits)


async def _semantic(session: AsyncSession, encoder: Encoder, text: str, k: int, exclude: int | None,
                    min_score: float, vector: np.ndarray | None = None) -> list[tuple[int, float]]:
    # The text is encoded (in a thread) while the database is asked for just-shared ideas: the two
    # waits overlap instead of adding up.
    encoding = asyncio.ensure_future(encode_here(encoder, [text])) if vector is None else None
    try:
        fresh = await _without_vector(session, encoder.name, text, exclude)
        if fresh:  # stored now: any process finds them from here on, and this search ranks them like the rest
            vectors = await encode_here(encoder, [t for _, t in fresh])
            await store(session, KIND, encoder.name, {i: vectors[n] for n, (i, _) in enumerate(fresh)})
        query = (await encoding)[0] if encoding is not None else vector
    finally:
        if encoding is not None and not encoding.done():
            encoding.cancel()  # the request failed or was cancelled; the thread's result is not awaited
    visible = exists().where(Idea.id == TextEmbedding.text_id, *_listed(exclude))
    found = await nearest(session, KIND, encoder.name, query, k=k, where=[visible])
    return [(i, s) for i, s in found if s >= min_score]


def _tsquery(text: str) -> Any:
    """Any of the text's words (their stems, as the search column keeps them). One parameter in a
    statement of one shape, which SQLAlchemy compiles once: a chain of one plainto_tsquery per word was a
    new statement for every count of words and cost about 7 ms of Python a search (docs/benchmarks.md)."""
    terms = list(dict.fromkeys(query_terms(text).split()))[:MAX_TERMS]
    if not terms:
        return None
    every = func.plainto_tsquery("simple", " ".join(terms))  # 'a' & 'b' & …; no lexeme holds " & "
    return func.to_tsquery("simple", func.replace(cast(every, Text), " & ", " | "))


async def _without_vector(session: AsyncSession, encoder: str, text: str, exclude: int | None
                          ) -> list[tuple[int, str]]:
    """(id, text) of the newest listed ideas that have no vector for this encoder yet: at most ``FRESH``,
    those sharing most words with ``text`` first."""
    newest = select(Idea.id).where(*_listed(exclude)).order_by(Idea.id.desc()).limit(WINDOW)
    stored = exists().where(TextEmbedding.kind == KIND, TextEmbedding.encoder == encoder,
                            TextEmbedding.text_id == Idea.id)
    query = _tsquery(text)
    rank = func.ts_rank_cd(Idea.search_vector, query) if query is not None else literal(0)
    stmt: Select = (select(Idea.id, source(KIND).text()).where(Idea.id.in_(newest), ~stored)
                    .order_by(rank.desc(), Idea.id.desc()).limit(FRESH))
    return [(int(i), t or "") for i, t in (await session.execute(stmt)).all()]


async def _lexical(session: AsyncSession, text: str, k: int, exclude: int | None,
                   min_score: float) -> list[tuple[int, float]]:
    query = _tsquery(text)
    if query is None:
        return []
    rank = func.ts_rank_cd(Idea.search_vector, query, 32)  # 32: rank / (rank + 1)
    rows = await session.execute(select(Idea.id, rank).where(*_listed(exclude), Idea.search_vector.op("@@")(query))
                                 .order_by(rank.desc(), Idea.id.desc()).limit(k))
    return [(int(i), round(float(s), 4)) for i, s in rows if float(s) >= min_score]

