"""Theme jobs at scale: a refresh with few new items adds them to the current themes (costing the new
items, not all), a larger share re-fits everything; the assignment job takes each waiting item once,
including items stored while a refresh was fitting, one job per agency at a time."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_user
from tests.test_workspace import fresh, passports_with_feedback, refresh, sign_in
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.themes.models import ThemeModel, ThemeRun
from voice.themes.services import EXTEND_UP_TO

NEW = ["رمز التحقق ما يوصلني على الجوال من أمس", "لم يصلني رمز التحقق حتى الآن", "كود التحقق لا يصل للجوال"]


async def current(db: AsyncSession):
    from nlp import ThemeModel as Fitted

    row = await db.scalar(select(ThemeModel).where(ThemeModel.is_current.is_(True))
                          .execution_options(populate_existing=True))
    return Fitted.from_bytes(row.blob)


async def themes_of(db: AsyncSession, agency_id: int) -> dict[int, int | None]:
    rows = await db.execute(select(Feedback.id, Feedback.theme_id).where(Feedback.agency_id == agency_id)
                            .execution_options(populate_existing=True))
    return dict(rows.all())


async def test_a_refresh_adds_few_new_items_and_refits_when_many_arrived(client: httpx.AsyncClient, db: AsyncSession,
                                                                         run_jobs) -> None:
    agency, rows = await passports_with_feedback(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    await refresh(client, run_jobs)
    first = await current(db)
    before = await themes_of(db, agency.id)
    assert first.extended_texts_ == 0 and set(first.ids_) == set(before)

    intake = IntakeService(db)
    added = [(await intake.submit(Submission(agency="passports", body=body, publish=True))).id for body in NEW]
    await db.commit()
    assert len(added) <= EXTEND_UP_TO * len(before)
    await refresh(client, run_jobs)
    second = await current(db)
    after = await themes_of(db, agency.id)
    assert second.extended_texts_ == len(added)  # added, not re-fitted
    assert {t.id for t in first.themes_} <= {t.id for t in second.themes_}
    assert all(after[i] == before[i] for i in before)  # every earlier item keeps its theme
    assert all(after[i] is not None for i in added)
    assert len({after[i] for i in added}) == 1  # the three say the same thing
    runs = (await db.scalars(select(ThemeRun).order_by(ThemeRun.id).execution_options(populate_existing=True))).all()
    assert [r.status for r in runs] == ["succeeded", "succeeded"] and runs[-1].n_texts == len(after)

    # Many more items than the share allows: every item is clustered again.
    many = int(EXTEND_UP_TO * len(after)) + 1
    for n in range(many):
        await intake.submit(Submission(agency="passports", body=f"{rows[n % len(rows)]['body']} ({n})", publish=True))
    await db.commit()
    await refresh(client, run_jobs)
    third = await current(db)
    assert third.extended_texts_ == 0 and len(third.ids_) == len(after) + many


async def test_assignment_takes_each_waiting_item_once(client: httpx.AsyncClient, db: AsyncSession, run_jobs) -> None:
    agency, _rows = await passports_with_feedback(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await sign_in(client, staff.email)
    await refresh(client, run_jobs)
    # The refresh queued the assignment job, for items stored while it was fitting.
    queued = await db.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'voice.assign_themes'"))
    assert queued == 1
    model_at = await db.scalar(select(ThemeModel.created_at).where(ThemeModel.is_current.is_(True)))
    intake = IntakeService(db)
    # An item stored while the refresh was fitting: not in the model, older than it, without a theme.
    during = await intake.submit(Submission(agency="passports", body=NEW[0], publish=True))
    await db.flush()
    await db.execute(update(Feedback).where(Feedback.id == during.id)
                     .values(created_at=model_at - timedelta(minutes=2), theme_id=None))
    stray = await intake.submit(Submission(agency="passports", body="zzqx wvvk plorth", publish=True))
    await db.commit()
    queued = (await db.execute(text("SELECT lock, queueing_lock FROM procrastinate_jobs "
                                    "WHERE task_name = 'voice.assign_themes' AND status = 'todo'"))).all()
    assert len(queued) == 1 and queued[0][0] == queued[0][1]  # one job per agency runs at a time
    await run_jobs()
    assert (await fresh(db, Feedback, during.id)).theme_id is not None
    stray_row = await fresh(db, Feedback, stray.id)
    assert stray_row.theme_id is None and stray_row.theme_score is not None  # fits no theme: decided
    # The next job does not take the stray item again (its score would be recomputed).
    await db.execute(update(Feedback).where(Feedback.id == stray.id).values(theme_score=-1.0))
    await intake.submit(Submission(agency="passports", body=NEW[1], publish=True))
    await db.commit()
    await run_jobs()
    assert (await fresh(db, Feedback, stray.id)).theme_score == -1.0
