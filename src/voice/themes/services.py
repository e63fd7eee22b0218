"""Theme discovery runs (background jobs): requested by staff, nightly, or after demo data loads.

A run fits a new model on the agency's feedback while the previous themes stay in service, then
swaps everything in one transaction: the new model becomes current, theme rows are updated by their
stable keys, vanished themes are retired, the top-level themes are stored (voice.themes.groups) and
every item points at its new theme. Staff edits (voice.themes.edits) live on the theme rows (the source
of truth) and are re-applied to each new model before the swap.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voice.accounts.models import User
from voice.accounts.services import audit
from voice.jobs import defer, job_session, jobs, resumable
from voice.themes.assign import LONGEST_RUN, schedule
from voice.themes.groups import store_groups
from voice.themes.models import Theme, ThemeModel, ThemeRun
from voice.themes.sources import FAMILY_RECORDS, SOURCES, family_scope, source
from voice.themes.vectors import DatabaseVectors

log = logging.getLogger(__name__)

MAX_TEXTS = 50_000  # newest items per run; older ones keep their theme until they age out
ACTIVE = ("queued", "running")
ABANDONED_AFTER = LONGEST_RUN  # far beyond the slowest run (50k texts with sentence embeddings)
# An incremental refresh adds new texts to the current themes while the texts added since the last full
# fit stay under this share of all (nlp.themes.extend); beyond it, every text is clustered again.
EXTEND_UP_TO = 0.2
# Stage → share of the progress bar, in the order nlp reports them.
_STAGES = {"normalize": 5, "vectorize": 45, "cluster": 80, "label": 90}


async def request_refresh(session: AsyncSession, agency_id: int | None, user: User | None,
                          scope: str = "feedback") -> ThemeRun:
    """Queue a run unless one is already queued or running for this agency (then return that one);
    ``agency_id`` None is the whole platform (scopes such as ideas)."""
    running = await session.scalar(select(ThemeRun).where(
        ThemeRun.agency_id.is_not_distinct_from(agency_id), ThemeRun.scope == scope, ThemeRun.status.in_(ACTIVE))
        .order_by(ThemeRun.id.desc()).limit(1))
    if running is not None and running.created_at > datetime.now(UTC) - ABANDONED_AFTER:
        return running
    if running is not None:
        # Its job was lost (deleted by hand, queue restored from an old backup): do not let it block
        # the agency's refreshes forever.
        running.status, running.error, running.finished_at = "failed", "abandoned", datetime.now(UTC)
    run = ThemeRun(agency_id=agency_id, scope=scope, status="queued",
                   requested_by_id=user.id if user else None)
    session.add(run)
    await session.flush()
    await defer(session, refresh_themes_job, run_id=run.id)
    if user is not None:
        await audit(session, "themes.refresh", actor=user, target_type="theme_run", target_id=run.id,
                    agency_id=agency_id)
    return run


@jobs.task(name="voice.refresh_themes", queue="themes", retry=resumable(3, wait=5),
           pass_context=False)
async def refresh_themes_job(run_id: int) -> None:
    await run_refresh(run_id)


async def run_refresh(run_id: int) -> None:
    """The job body: fit off the event loop, report progress, then swap atomically."""
    from nlp import ThemeModel as Fitter
    from nlp.embeddings import stored_vectors

    async with job_session() as session:
        run = await session.get(ThemeRun, run_id)
        if run is None or run.status == "succeeded":
            return
        run.status, run.stage, run.progress, run.error = "running", "load", 1, None
        run.attempts += 1
        agency_id, scope = run.agency_id, run.scope
        src = source(scope)
        rows = (await session.execute(
            select(src.model.id, src.text()).where(*src.rows(agency_id))
            .order_by(src.model.created_at.desc()).limit(MAX_TEXTS))).all()
        previous_row = await session.scalar(select(ThemeModel).where(
            ThemeModel.agency_id == agency_id, ThemeModel.scope == scope, ThemeModel.is_current.is_(True)))
        previous_blob = previous_row.blob if previous_row else None
        run.n_texts = len(rows)

    ids = [r[0] for r in rows]
    texts = [r[1] or "" for r in rows]
    stage = {"name": "vectorize", "pct": 5}
    lock = threading.Lock()

    def progress(name: str, done: int, total: int) -> None:
        with lock:
            stage["name"] = name
            stage["pct"] = _STAGES.get(name, stage["pct"])

    # Texts encoded by an earlier run, an assignment or the encoding job are not encoded again.
    vectors = DatabaseVectors(scope, ids, texts, asyncio.get_running_loop())

    def fit() -> tuple[Any, dict[int, int | None]]:
        """The new model and the theme of each item whose theme it sets (every item after a full fit,
        only the new ones after an incremental one)."""
        previous = Fitter.from_bytes(previous_blob) if previous_blob else None
        with stored_vectors(vectors):
            if previous is not None and can_extend(previous, ids, texts):
                changed, labels = previous.extend(texts, ids, progress=progress)
                return previous, dict(zip(changed, labels, strict=True))
            model = Fitter(method="auto", random_state=0).fit(texts, ids, previous=previous, progress=progress)
            return model, dict(zip(ids, model.labels_, strict=True))

    try:
        fitting = asyncio.get_running_loop().run_in_executor(None, fit)
        while not fitting.done():
            await asyncio.wait({fitting}, timeout=0.5)
            with lock:
                name, pct = stage["name"], stage["pct"]
            async with job_session() as session:
                await session.execute(update(ThemeRun).where(ThemeRun.id == run_id).values(stage=name, progress=pct))
        model, members = fitting.result()
        log.info("theme run %s: %s texts (%s), %s vectors reused, %s encoded", run_id, len(ids),
                 "full fit" if len(members) == len(ids) else f"{len(members)} added", vectors.reused, vectors.computed)
        async with job_session() as session:
            await _swap(session, run_id, agency_id, scope, model, len(ids), members)
    except Exception as exc:
        log.exception("theme run %s failed", run_id)
        async with job_session() as session:
            await session.execute(update(ThemeRun).where(ThemeRun.id == run_id).values(
                status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=datetime.now(UTC)))
        raise  # procrastinate retries; the previous themes were never touched


def can_extend(previous: Any, ids: list[int], texts: list[str]) -> bool:
    """Whether a refresh may add the new texts to the current model (``ThemeModel.extend``, costing the
    new texts) rather than cluster every text again: the model knows its texts, would be fitted the same
    way today, and the texts added since its last full fit stay under EXTEND_UP_TO of them. A full fit
    then catches up with the drift (and the nightly refresh gets there by the same rule)."""
    from nlp.themes.base import resolve_method

    if previous.ids_ is None or not previous.themes_:
        return False
    if resolve_method("auto", len(set(texts)))[0] != previous.method_:
        return False
    if previous.method_ != "tfidf" and previous.vectorizer_.encoder != resolve_method("auto", len(set(texts)))[1]:
        return False
    held = set(previous.ids_)
    return previous.grown_since_fit(sum(1 for i in ids if i not in held)) <= EXTEND_UP_TO


async def _swap(session: AsyncSession, run_id: int, agency_id: int | None, scope: str, model: Any,
                n_texts: int, members: dict[int, int | None]) -> None:
    # Serialize swaps and staff edits for this agency: both lock the current model row.
    await session.execute(select(ThemeModel.id).where(
        ThemeModel.agency_id == agency_id, ThemeModel.scope == scope, ThemeModel.is_current.is_(True))
        .with_for_update())
    existing = {t.key: t for t in (await session.scalars(select(Theme).where(
        Theme.agency_id == agency_id, Theme.scope == scope))).all()}
    _reapply_edits(model, existing)
    await session.execute(update(ThemeModel).where(
        ThemeModel.agency_id == agency_id, ThemeModel.scope == scope, ThemeModel.is_current.is_(True))
        .values(is_current=False))
    session.add(ThemeModel(agency_id=agency_id, scope=scope, blob=model.to_bytes(), method=model.method_,
                           n_texts=n_texts, is_current=True))
    live_keys = set()
    for t in model.themes_:
        key = str(t.id)
        live_keys.add(key)
        row = existing.get(key)
        if row is None:
            row = Theme(agency_id=agency_id, scope=scope, key=key, label=t.label)
            session.add(row)
            existing[key] = row
        if not row.renamed:
            row.label = t.label[:200]
        row.keywords, row.size, row.quality = list(t.keywords), int(t.size), float(t.quality)
        row.representative_ids = [int(i) for i in t.representative_ids][:5]
        row.retired = False
    for key, row in existing.items():
        if key not in live_keys and not row.retired:
            row.retired = True
            row.size = 0
    await store_groups(session, agency_id, scope, model, existing)
    await session.flush()
    key_to_row = {k: r.id for k, r in existing.items()}
    pairs: dict[int | None, list[int]] = {}
    for feedback_id, label in members.items():
        pairs.setdefault(key_to_row.get(str(label)) if label is not None else None, []).append(feedback_id)
    target = source(scope).model
    for theme_id, members in pairs.items():
        for start in range(0, len(members), 5000):
            await session.execute(update(target).where(target.id.in_(members[start:start + 5000]))
                                  .values(theme_id=theme_id))
    await session.execute(update(ThemeRun).where(ThemeRun.id == run_id).values(
        status="succeeded", stage="done", progress=100, n_themes=len(model.themes_), finished_at=datetime.now(UTC)))
    # Texts stored while the model was being fitted are not in it: the assignment job takes them now.
    await schedule(session, agency_id, scope)


def _reapply_edits(model: Any, rows: dict[str, Theme]) -> None:
    """Make the new model carry every staff edit recorded on the theme rows."""
    by_id = {t.id: t for t in model.themes_}
    for key, row in rows.items():
        if not key.isdigit() or int(key) not in by_id:
            continue
        if row.renamed:
            model.rename(int(key), row.label)
        if row.pinned:
            model.pin(int(key), True)
    for row in rows.values():
        if row.merged_into_id is None:
            continue
        target = next((r for r in rows.values() if r.id == row.merged_into_id), None)
        live = {t.id for t in model.themes_}
        if target is not None and row.key.isdigit() and target.key.isdigit() \
                and int(row.key) in live and int(target.key) in live:
            model.merge(int(target.key), int(row.key))


@jobs.periodic(cron="30 2 * * *", periodic_id="nightly-themes")  # 02:30 UTC, 05:30 in Riyadh
@jobs.task(name="voice.refresh_all_themes", queue="themes", queueing_lock="nightly-themes", retry=resumable(1))
async def refresh_all_themes(timestamp: int) -> int:
    """The scheduled refresh: for every registered scope, each agency (or the whole platform, for a
    platform-wide scope such as ideas) whose texts are newer than its last successful run, and each record
    of a family (a consultation's comments) whose texts are newer than its own last run, so morning
    dashboards show yesterday's themes."""
    from sqlalchemy import func

    from voice.catalogue.models import Agency

    queued = 0
    async with job_session() as session:
        for scope, src in SOURCES.items():
            if src.per_agency:
                last_run = (select(func.max(ThemeRun.created_at)).where(
                    ThemeRun.agency_id == Agency.id, ThemeRun.scope == scope, ThemeRun.status == "succeeded")
                    .scalar_subquery())
                newest = (select(func.max(src.model.created_at)).where(src.model.agency_id == Agency.id)
                          .scalar_subquery())
                stale = (await session.scalars(select(Agency.id).where(
                    Agency.is_active.is_(True), newest.is_not(None), (last_run.is_(None)) | (newest > last_run)))).all()
                targets: list[int | None] = list(stale)
            else:
                last = await session.scalar(select(func.max(ThemeRun.created_at)).where(
                    ThemeRun.scope == scope, ThemeRun.status == "succeeded"))
                newest_text = await session.scalar(select(func.max(src.model.created_at)))
                targets = [None] if newest_text is not None and (last is None or newest_text > last) else []
            for agency_id in targets:
                await request_refresh(session, agency_id, None, scope=scope)
                queued += 1
        for prefix, records in FAMILY_RECORDS.items():
            last_runs = dict((await session.execute(select(ThemeRun.scope, func.max(ThemeRun.created_at)).where(
                ThemeRun.scope.startswith(f"{prefix}_", autoescape=True), ThemeRun.status == "succeeded")
                .group_by(ThemeRun.scope))).all())
            for record_id, agency_id, newest in (await session.execute(records())).all():
                scope = family_scope(prefix, record_id)
                if newest is not None and (scope not in last_runs or newest > last_runs[scope]):
                    await request_refresh(session, agency_id, None, scope=scope)
                    queued += 1
    return queued
