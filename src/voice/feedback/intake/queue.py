"""The web app's way of storing feedback: submissions that arrive together share one statement.

Each web process keeps one ``IntakeQueue``. A request hands it a validated row and waits for the row's
own outcome; the queue stores what has gathered in one execution of the intake statement, in
autocommit (the statement is atomic on its own), so every acknowledged submission is committed before
its request answers. Measured in docs/benchmarks.md: at 16 rows per execution PostgreSQL spends about
a quarter of the CPU per row that single-row statements cost it, and the web process makes one round
trip per batch instead of one per request.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from voice.batching import GroupCommit
from voice.feedback.intake.statement import IntakeRow, Stored, store_rows

STATEMENTS = Counter("voice_intake_statements", "Intake statements run by the feedback intake queue")
ROWS = Counter("voice_intake_rows", "Submissions handed to the intake statement by the feedback intake queue")

# Enough rows to amortize a round trip and a commit, few enough that a batch stays a few milliseconds.
MAX_BATCH = 64
# Batches in flight per process, each on its own pooled connection: while one commits, the next gathers.
MAX_IN_FLIGHT = 2


def refuses_data(exc: DBAPIError) -> bool:
    """Whether PostgreSQL refused the values themselves: SQLSTATE class 22 (data exception) or 23
    (integrity constraint violation)."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return isinstance(exc, IntegrityError | DataError) or sqlstate[:2] in ("22", "23")


class IntakeQueue:
    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._group: GroupCommit[IntakeRow, Stored] = GroupCommit(
            self._store_batch, max_batch=max_batch, max_in_flight=max_in_flight,
            conflict_key=lambda row: row.idempotency[:2] if row.idempotency else None)

    async def store(self, row: IntakeRow) -> Stored:
        return await self._group.submit(row)

    async def drain(self) -> None:
        await self._group.drain()

    @property
    def counts(self) -> tuple[int, int]:
        """(batches, rows) stored since the process started."""
        return self._group.batches, self._group.items

    async def _store_batch(self, rows: list[IntakeRow]) -> list[Stored | BaseException]:
        STATEMENTS.inc()
        ROWS.inc(len(rows))
        try:
            async with self._engine.connect() as connection:
                return list(await store_rows(connection, rows))
        except DBAPIError as exc:
            # One row that the database refuses must not fail the others that shared its statement:
            # store each on its own, so the refusal reaches only the request that sent it. Any other
            # failure (database unreachable) is every row's answer.
            if len(rows) == 1 or not refuses_data(exc):
                raise
            return [await self._store_alone(row) for row in rows]

    async def _store_alone(self, row: IntakeRow) -> Stored | BaseException:
        try:
            async with self._engine.connect() as connection:
                [stored] = await store_rows(connection, [row])
                return stored
        except DBAPIError as exc:
            return exc
