"""The nightly theme refresh covers consultations: a run for each public consultation whose comments are
newer than its last successful run, none for drafts, consultations without comments or quiet ones."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency, make_user
from tests.test_consultations import citizen, draft, published
from voice.accounts.models import Role
from voice.consultations.insights import theme_scope
from voice.consultations.participation import ConsultationParticipationService
from voice.consultations.services import ConsultationService
from voice.jobs import defer
from voice.themes.models import ThemeRun
from voice.themes.services import refresh_all_themes


async def nightly(db: AsyncSession, run_jobs, timestamp: int) -> set[tuple[str, int | None]]:
    """Run the nightly job once (not the runs it queues); the (scope, agency) of the runs queued."""
    before = set(await db.scalars(select(ThemeRun.id)))
    await defer(db, refresh_all_themes, timestamp=timestamp)
    await db.commit()
    await run_jobs()
    rows = (await db.execute(select(ThemeRun.id, ThemeRun.scope, ThemeRun.agency_id)
                             .execution_options(populate_existing=True))).all()
    return {(r.scope, r.agency_id) for r in rows if r.id not in before}


async def finish_runs(db: AsyncSession) -> None:
    """As if the queued runs had just succeeded, after every comment so far (the engine is tested elsewhere)."""
    await db.execute(update(ThemeRun).values(status="succeeded", created_at=datetime.now(UTC)))
    await db.commit()


async def test_nightly_refresh_queues_consultations_with_new_comments(db: AsyncSession, run_jobs) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    talked = await published(db, staff)
    quiet = await published(db, staff)  # published, nobody commented
    drafted = await ConsultationService(session=db).create(staff, draft())
    await db.commit()
    people = ConsultationParticipationService(session=db)
    first = await citizen(db)
    await people.comment(talked.id, first, 1, "support", "أؤيد تنظيم ساعات العمل بما يراعي الأحياء السكنية")
    await db.commit()

    queued = await nightly(db, run_jobs, 0)
    assert (theme_scope(talked.id), agency.id) in queued
    assert not {s for s, _a in queued} & {theme_scope(quiet.id), theme_scope(drafted.id)}

    await finish_runs(db)
    assert not {s for s, _a in await nightly(db, run_jobs, 1) if s.startswith("cons_")}  # nothing new since

    second = await citizen(db)
    await people.comment(talked.id, second, 2, "oppose", "التطبيق على كل المحافظات دفعة واحدة صعب على المنشآت الصغيرة")
    await db.commit()
    assert (theme_scope(talked.id), agency.id) in await nightly(db, run_jobs, 2)
