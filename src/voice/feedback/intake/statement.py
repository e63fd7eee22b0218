"""The intake statement: any number of submissions stored in one round trip, each with its "created"
event, due date, public-board state and theme queueing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from voice.db import PublicSearchText, PublicText
from voice.feedback.intake.submission import Intake
from voice.feedback.models import Status
from voice.feedback.rules import due_at_sql, moderation_on_arrival_sql, public_on_arrival_sql
from voice.themes.assign import schedule_sql as schedule_theme_sql


@dataclass(frozen=True)
class IntakeRow:
    """One validated submission with what the statement needs besides it."""

    intake: Intake
    code: str
    now: datetime
    user_id: int | None
    idempotency: tuple[str, str, str] | None = None  # scope, key, hash of the request body


@dataclass(frozen=True)
class Stored:
    """What the intake statement did with one row."""

    valid: bool  # the agency (and the service, if named) exist and are active
    claimed: bool  # the Idempotency-Key was free and is now this row's (False without a key)
    id: int | None  # the stored item; None when invalid or the key was claimed before


# One row per submission, as arrays zipped by unnest. The statement is atomic on its own (it can run
# without BEGIN/COMMIT). Per row: an inactive or unknown agency, or a service that is not the agency's,
# stores nothing and claims no key; with an Idempotency-Key the item is stored only if this statement
# claimed the key (the key's stored answer names the item, so the id is drawn first). Moderation, the
# public-board flag and the due date follow voice.feedback.rules; a "created" event is written and theme
# assignment is queued. Only constants are spliced into the text; every value is a bound parameter. Two
# rows with the same key must not share one execution (both would see the one claim): ``store_rows``
# refuses that.
_COLUMNS = {
    "agency": "text", "service": "text", "code": "text", "kind": "text", "submitter_kind": "text",
    "channel": "text", "body": "text", "body_public": "text", "search_text": "text", "rating": "int",
    "contact_email": "text", "publish": "bool", "user_id": "bigint", "language": "text", "now": "timestamptz",
    "scope": "text", "key": "text", "hash": "text",
}
_STORE_ROWS = text(f"""
WITH input AS (
    SELECT * FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in _COLUMNS.items())})
        WITH ORDINALITY AS i({", ".join(_COLUMNS)}, ord)
), valid AS MATERIALIZED (
    SELECT i.ord, nextval('feedback_id_seq') AS id, t.* FROM input i
    CROSS JOIN LATERAL (
        SELECT a.id AS agency_id, a.publish_after_review, s.id AS service_id,
               -- Agency.sla_for: the service's own SLA, else the agency's for this kind, else its default.
               COALESCE(s.sla_days, (a.sla_by_kind ->> i.kind)::int, a.sla_days) AS sla_days
        FROM agency a LEFT JOIN service s ON s.agency_id = a.id AND s.slug = i.service AND s.is_active
        WHERE a.slug = i.agency AND a.is_active
    ) t
    WHERE i.service IS NULL OR t.service_id IS NOT NULL
), claim AS (
    INSERT INTO idempotency_key (scope, key, request_hash, status_code, response, created_at, updated_at)
    SELECT i.scope, i.key, i.hash, 201, jsonb_build_object('id', v.id, 'tracking_code', i.code,
           'status', '{Status.RECEIVED.value}'), i.now, i.now
    FROM input i JOIN valid v USING (ord) WHERE i.key IS NOT NULL
    ON CONFLICT ON CONSTRAINT uq_idempotency_scope_key DO NOTHING
    RETURNING scope, key
), item AS (
    INSERT INTO feedback (id, tracking_code, agency_id, service_id, kind, submitter_kind, channel, body,
                          body_public, search_text, rating, contact_email, publish, moderation, is_public, status,
                          user_id, supporters, due_at, language, created_at, updated_at)
    SELECT v.id, i.code, v.agency_id, v.service_id, i.kind, i.submitter_kind, i.channel, i.body,
           i.body_public, i.search_text, i.rating, i.contact_email, i.publish,
           {moderation_on_arrival_sql("i.publish", "v.publish_after_review")},
           {public_on_arrival_sql("i.publish", "v.publish_after_review")}, '{Status.RECEIVED.value}', i.user_id, 0,
           {due_at_sql("i.now", "v.sla_days")}, i.language, i.now, i.now
    FROM input i JOIN valid v USING (ord)
    WHERE i.key IS NULL OR EXISTS (SELECT 1 FROM claim c WHERE c.scope = i.scope AND c.key = i.key)
    RETURNING id, agency_id, user_id, created_at
), created AS (
    INSERT INTO feedback_event (feedback_id, kind, to_status, agency_id, actor_id, public, created_at, updated_at)
    SELECT id, 'created', '{Status.RECEIVED.value}', agency_id, user_id, true, created_at, created_at FROM item
), item_agency AS (
    SELECT DISTINCT agency_id FROM item
), assignment AS ({schedule_theme_sql("item_agency", "feedback")}
)
SELECT v.id IS NOT NULL AS valid, c.key IS NOT NULL AS claimed, it.id
FROM input i
LEFT JOIN valid v USING (ord)
LEFT JOIN claim c ON c.scope = i.scope AND c.key = i.key
LEFT JOIN item it ON it.id = v.id
ORDER BY i.ord
""").bindparams(  # noqa: S608
    # The public columns' types: the public text and its search terms are made here too, whatever the caller
    # passed (voice.db.PublicText).
    bindparam("body_public", type_=ARRAY(PublicText())),
    bindparam("search_text", type_=ARRAY(PublicSearchText())),
)


async def store_rows(connection: AsyncSession | AsyncConnection, rows: list[IntakeRow]) -> list[Stored]:
    """Run the intake statement for ``rows`` on a session or connection; one ``Stored`` per row, in order."""
    keys = [(r.idempotency[0], r.idempotency[1]) for r in rows if r.idempotency]
    if len(keys) != len(set(keys)):
        raise ValueError("two rows with the same Idempotency-Key in one intake statement")
    columns: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    for r in rows:
        i = r.intake
        scope, key, digest = r.idempotency or (None, None, None)
        for name, value in (
            ("agency", i.agency), ("service", i.service), ("code", r.code), ("kind", i.kind.value),
            ("submitter_kind", i.submitter_kind.value), ("channel", i.channel.value), ("body", i.body),
            ("body_public", i.body_public), ("search_text", i.search_text), ("rating", i.rating),
            ("contact_email", i.contact_email), ("publish", i.publish), ("user_id", r.user_id),
            ("language", i.language), ("now", r.now), ("scope", scope), ("key", key), ("hash", digest),
        ):
            columns[name].append(value)
    result = await connection.execute(_STORE_ROWS, columns)
    return [Stored(valid=row.valid, claimed=row.claimed, id=row.id) for row in result]
