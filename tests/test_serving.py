"""How many web processes `voice run` starts: by default as many as the cores sensibly allow, never more
than PostgreSQL has connections for; a number asked for that does not fit is refused with the figures.
(The processes themselves, their shared socket and their stop: tests/test_worker_process.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from voice.jobs import WORKER_CONNECTIONS
from voice.serving import (
    SPARE_CONNECTIONS,
    ConnectionBudget,
    TooManyWebProcesses,
    connection_budget,
    default_web_processes,
    web_processes,
)

PLENTY = ConnectionBudget(max_connections=100, reserved=3, in_use=5)  # the embedded server's defaults


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 2), (3, 2), (4, 2), (8, 4), (16, 8)])
def test_default_is_one_on_one_core_else_half_the_cores_and_at_least_two(cores: int, expected: int) -> None:
    assert default_web_processes(cores) == expected
    roomy = ConnectionBudget(max_connections=200, reserved=3, in_use=5)
    assert web_processes(None, cores, roomy, per_web_process=10, per_worker=WORKER_CONNECTIONS) == expected


def test_the_default_is_lowered_to_what_the_database_has_connections_for() -> None:
    # 40 - 3 reserved - 2 in use - spare - the worker leaves room for two pools of 10, not the four of 8 cores.
    tight = ConnectionBudget(max_connections=40, reserved=3, in_use=2)
    assert tight.web_processes_fitting(10, WORKER_CONNECTIONS) == (40 - 3 - 2 - SPARE_CONNECTIONS - WORKER_CONNECTIONS) // 10
    assert web_processes(None, 8, tight, per_web_process=10, per_worker=WORKER_CONNECTIONS) == 2
    # With no room at all, one process still starts (its requests wait for connections, they are not refused here).
    full = ConnectionBudget(max_connections=20, reserved=3, in_use=10)
    assert web_processes(None, 8, full, per_web_process=10, per_worker=WORKER_CONNECTIONS) == 1


def test_a_number_asked_for_is_used_when_it_fits_and_refused_with_the_figures_when_not() -> None:
    assert web_processes(3, 2, PLENTY, per_web_process=10, per_worker=WORKER_CONNECTIONS) == 3
    with pytest.raises(TooManyWebProcesses) as refused:
        web_processes(12, 16, PLENTY, per_web_process=10, per_worker=WORKER_CONNECTIONS)
    message = str(refused.value)
    assert "max_connections 100" in message and "VOICE_DB_POOL_SIZE" in message
    assert f"at most {PLENTY.web_processes_fitting(10, WORKER_CONNECTIONS)} fit" in message
    with pytest.raises(TooManyWebProcesses):
        web_processes(0, 2, PLENTY, per_web_process=10, per_worker=WORKER_CONNECTIONS)


async def test_the_budget_is_read_from_the_server(db: AsyncSession) -> None:
    budget = await connection_budget(db)
    assert budget.max_connections == int((await db.execute(text("SHOW max_connections"))).scalar_one())
    assert budget.reserved == int((await db.execute(text("SHOW superuser_reserved_connections"))).scalar_one())
    # Sessions of other clients (the test app's pool, other test processes); their number moves, its range not.
    assert 0 <= budget.in_use < budget.max_connections
