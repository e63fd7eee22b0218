"""Put new texts into their agency's current themes soon after they arrive, without re-fitting.

Assignment runs as a background job, never inside the citizen's request: with a semantic model one
text costs an embedding (tens to hundreds of milliseconds on a busy CPU), while a batch of them
costs little more than one. A burst of submissions queues a single job per agency (procrastinate's
queueing lock), which then assigns everything that arrived since.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from voice.jobs import job_session, jobs, resumable
from voice.themes.models import Theme, ThemeModel
from voice.themes.vectors import DatabaseVectors

log = logging.getLogger(__name__)

_models: dict[tuple[int, float], object] = {}
_MAX_CACHED = 32
# Texts per transaction: each chunk's themes are visible (and its work kept, if the job is stopped) as
# soon as it is done, while one round of encoding still serves many texts.
CHUNK = 256
# Longer than any theme run (voice.themes.services.ABANDONED_AFTER): texts stored while the current model
# was being fitted are not in it, so assignment looks back this far before the model (those that were in
# the fit have their theme).
LONGEST_RUN = timedelta(hours=6)


async def current_model(session: AsyncSession, agency_id: int | None, scope: str = "feedback"):
    """(row id, created_at, fitted nlp.ThemeModel) of the agency's current model, or None.

    The blob is megabytes, so it is read from the database only when a new run or a staff edit has
    replaced it; the fitted model is kept per process and version.
    """
    row = (await session.execute(select(ThemeModel.id, ThemeModel.updated_at, ThemeModel.created_at).where(
        ThemeModel.agency_id == agency_id, ThemeModel.scope == scope, ThemeModel.is_current.is_(True)))).first()
    if row is None:
        return None
    key = (row.id, row.updated_at.timestamp())
    model = _models.get(key)
    if model is None:
        from nlp import ThemeModel as Fitted

        blob = await session.scalar(select(ThemeModel.blob).where(ThemeModel.id == row.id))
        model = await asyncio.get_running_loop().run_in_executor(None, Fitted.from_bytes, blob)
        if len(_models) >= _MAX_CACHED:
            _models.pop(next(iter(_models)))
        _models[key] = model
    return row.id, row.created_at, model


def schedule_sql(rows_cte: str, scope: str) -> str:
    """A data-modifying CTE body that queues the assignment job for the agency of each row of
    ``rows_cte`` (a CTE with an ``agency_id`` column; NULL for platform-wide scopes such as ideas), so
    that a statement can insert and schedule in one round trip. The rules: only for an agency with a
    current model, and only when no job is waiting (checked first, so a burst of submissions rarely waits
    on the lock's index). The same string is the job's lock: the queued job starts once the running one
    has finished, and so never takes the texts that one is encoding. The row is the one procrastinate's
    defer function would insert."""
    if not (rows_cte.isidentifier() and scope.isidentifier()):  # names from code, spliced into SQL
        raise ValueError(f"bad CTE or scope name: {rows_cte!r}, {scope!r}")
    lock = f"'assign-{scope}-' || COALESCE(CAST(r.agency_id AS text), 'all')"
    return f"""
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args)
        SELECT '{assign_new_texts.queue}', '{assign_new_texts.name}', 0, {lock}, {lock},
               jsonb_build_object('agency_id', r.agency_id, 'scope', '{scope}')
        FROM {rows_cte} r
        WHERE EXISTS (SELECT 1 FROM theme_model m
                      WHERE m.agency_id IS NOT DISTINCT FROM r.agency_id AND m.scope = '{scope}' AND m.is_current)
          AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queueing_lock = {lock} AND j.status = 'todo')
        ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING"""  # noqa: S608


async def schedule(session: AsyncSession, agency_id: int | None, scope: str = "feedback") -> None:
    """Queue the agency's assignment job (see ``schedule_sql`` for the rules), in the session's transaction."""
    await session.execute(
        text(f"WITH target AS (SELECT CAST(:agency_id AS bigint) AS agency_id) {schedule_sql('target', scope)}"),
        {"agency_id": agency_id})


@jobs.task(name="voice.assign_themes", queue="themes", retry=resumable(5, wait=5))
async def assign_new_texts(agency_id: int | None, scope: str = "feedback") -> int:
    """Give every waiting text of the agency its theme, CHUNK texts per transaction (oldest first), until
    none is left. Waiting: no theme and no score yet, created while the current model was being fitted or
    after; a text that fits no theme keeps its score and waits for the next refresh, not for this job.
    One job per agency runs at a time (the job lock), so two never encode the same texts."""
    done = 0
    while True:
        assigned = await _assign_chunk(agency_id, scope)
        done += assigned
        if assigned < CHUNK:
            return done


async def _assign_chunk(agency_id: int | None, scope: str) -> int:
    from voice.themes.sources import source

    src = source(scope)
    target = src.model
    async with job_session() as session:
        current = await current_model(session, agency_id, scope)
        if current is None:
            return 0
        _id, fitted_at, model = current
        rows = (await session.execute(select(target.id, src.text()).where(
            *src.rows(agency_id), target.theme_id.is_(None), target.theme_score.is_(None),
            target.created_at >= fitted_at - LONGEST_RUN).order_by(target.id).limit(CHUNK))).all()
    if not rows:
        return 0
    texts = [r[1] or "" for r in rows]
    # The new texts' vectors are computed here and kept: the next refresh reuses them.
    vectors = DatabaseVectors(scope, [r[0] for r in rows], texts, asyncio.get_running_loop())

    def assign() -> list:
        from nlp.embeddings import stored_vectors

        with stored_vectors(vectors):
            return model.assign_many(texts)

    results = await asyncio.get_running_loop().run_in_executor(None, assign)
    async with job_session() as session:
        themes = dict((await session.execute(select(Theme.key, Theme.id).where(
            Theme.agency_id.is_not_distinct_from(agency_id), Theme.scope == scope,
            Theme.retired.is_(False)))).all())
        table = target.__table__.name
        # One statement for the chunk; a text a refresh or a person themed meanwhile keeps that theme.
        await session.execute(text(
            f"UPDATE {table} t SET theme_id = v.theme_id, theme_score = v.score "  # noqa: S608 - a table name
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:themes AS bigint[]), CAST(:scores AS float8[])) "
            "AS v(id, theme_id, score) WHERE t.id = v.id AND t.theme_id IS NULL"),
            {"ids": [r[0] for r in rows],
             "themes": [themes.get(str(key)) if key is not None else None for key, _ in results],
             "scores": [float(score) for _, score in results]})
    return len(rows)
