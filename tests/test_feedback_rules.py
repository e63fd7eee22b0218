"""The rules the intake statement carries in SQL (voice.feedback.rules): the statement and the Python
functions agree on every case, the due date in every time zone the database session may use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency
from voice.feedback.intake.statement import IntakeRow, store_rows
from voice.feedback.intake.submission import Submission, validate
from voice.feedback.models import Feedback, Moderation
from voice.feedback.rules import due_at, moderation_on_arrival, on_board
from voice.feedback.tracking import new_tracking_code

# Instants next to daylight-saving changes (New York: 9 March and 2 November 2025; Berlin: 30 March).
INSTANTS = [datetime(2025, 3, 8, 12, 0, tzinfo=UTC), datetime(2025, 11, 1, 23, 30, tzinfo=UTC),
            datetime(2025, 3, 29, 0, 15, tzinfo=UTC), datetime(2026, 1, 15, 9, 0, tzinfo=UTC)]


def test_the_rules_in_words() -> None:
    assert moderation_on_arrival(publish=True, review_first=True) is Moderation.PENDING
    assert {moderation_on_arrival(p, r) for p, r in [(True, False), (False, True), (False, False)]} == {
        Moderation.VISIBLE}
    assert [m for m in Moderation if on_board(True, m)] == [Moderation.VISIBLE]
    assert not any(on_board(False, m) for m in Moderation)
    assert due_at(INSTANTS[0], 2) == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Riyadh"])
async def test_the_intake_statement_follows_the_python_rules_in_every_case(db: AsyncSession, zone: str) -> None:
    agencies = {}
    for review_first, sla_days in ((False, 1), (True, 3), (False, 30)):
        agency = await make_agency(db, f"a{sla_days}-{int(review_first)}", sla_days=sla_days)
        agency.publish_after_review = review_first
        agencies[agency.slug] = agency
    await db.commit()
    rows = [IntakeRow(intake=validate(Submission(agency=slug, body="نص تجريبي عن الخدمة", publish=publish), None),
                      code=new_tracking_code(), now=now, user_id=None)
            for slug in agencies for publish in (True, False) for now in INSTANTS]
    await db.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))
    stored = await store_rows(db, rows)
    assert all(s.id for s in stored)
    items = {f.id: f for f in (await db.scalars(select(Feedback))).all()}
    cases = set()
    for row, result in zip(rows, stored, strict=True):
        item, agency = items[result.id], agencies[row.intake.agency]
        expected = moderation_on_arrival(row.intake.publish, agency.publish_after_review)
        assert item.moderation is expected
        assert item.is_public is on_board(item.publish, item.moderation)
        assert item.due_at == due_at(row.now, agency.sla_days), (zone, row.now, agency.sla_days)
        cases.add((row.intake.publish, agency.publish_after_review))
    assert cases == {(True, True), (True, False), (False, True), (False, False)}
