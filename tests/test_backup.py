"""Backup and restore for real: pg_dump the test database with scripts/pg_backup.py, restore the file
into a new database on the same server, and find the same rows at the same migration there."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency
from voice.db import libpq_url
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pg_backup.py"

BODIES = [
    "تأخر تجديد الجواز أكثر من أسبوعين رغم اكتمال الطلب، رقم جوالي 0501234567",
    "أقترح إضافة إشعار عند اقتراب موعد انتهاء الرخصة",
    "شكراً لسرعة الرد على استفسار حجز الموعد",
]

# What must survive: the rows themselves and the columns the app derives from them.
FEEDBACK_ROWS = ("SELECT f.tracking_code, a.slug, s.slug AS service, f.kind::text, f.body, f.body_public, "
                 "f.search_vector::text AS search_vector, f.is_public, f.status::text, f.due_at "
                 "FROM feedback f JOIN agency a ON a.id = f.agency_id LEFT JOIN service s ON s.id = f.service_id "
                 "ORDER BY f.tracking_code")
COUNTS = ("SELECT (SELECT count(*) FROM agency) AS agencies, (SELECT count(*) FROM service) AS services, "
          "(SELECT count(*) FROM feedback) AS feedback, (SELECT count(*) FROM feedback_event) AS events, "
          "(SELECT count(*) FROM procrastinate_jobs) AS jobs")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return re.sub(r"/[^/]*$", "/" + name, base) + ("?" + query if query else "")


async def _fetch(url: str, sql: str) -> list[dict]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(libpq_url(_with_database(url, "postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _backup(*args: str) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    from voice.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/x")).get_current_head()


def test_backup_tools_are_found() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import pg_backup
    finally:
        sys.path.remove(str(SCRIPT.parent))
    for name in ("pg_dump", "pg_restore"):
        assert Path(pg_backup.tool(name)).is_file()


@pytest.mark.slow  # pg_dump and pg_restore of a whole migrated database
async def test_dump_and_restore_into_a_new_database(database_url: str, db: AsyncSession, tmp_path: Path) -> None:
    await make_agency(db, "passports")
    service = IntakeService(db)
    for i, body in enumerate(BODIES):
        await service.submit(Submission(agency="passports", body=body, service="renewal" if i == 0 else None,
                                        kind=("complaint", "suggestion", "praise")[i], publish=i != 0))
    await db.commit()

    dump_file = tmp_path / "voice.dump"
    await asyncio.to_thread(_backup, "dump", database_url, str(dump_file))
    assert dump_file.stat().st_size > 0

    restored = _with_database(database_url, f"voice_restored_{secrets.token_hex(3)}")
    name = restored.partition("?")[0].rsplit("/", 1)[1]
    await _admin(database_url, f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(_backup, "restore", restored, str(dump_file))

        original_rows = await _fetch(database_url, FEEDBACK_ROWS)
        assert len(original_rows) == 3
        assert any("0501234567" not in r["body_public"] and "0501234567" in r["body"] for r in original_rows)
        assert await _fetch(restored, FEEDBACK_ROWS) == original_rows
        assert await _fetch(restored, COUNTS) == await _fetch(database_url, COUNTS)

        # `voice db check` on the restored copy: at the code's head, and no drift from the models.
        versions = await _fetch(restored, "SELECT version_num FROM alembic_version")
        assert [v["version_num"] for v in versions] == [_alembic_head()]
        from voice.migrate import check

        await asyncio.to_thread(check, restored)

        # The restored copy is a working database: the app's own services write to it.
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        from sqlalchemy.pool import NullPool

        engine = create_async_engine(restored, poolclass=NullPool)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
                item = await IntakeService(session).submit(Submission(agency="passports", body="بعد الاستعادة"))
            assert item.id > max(r["id"] for r in await _fetch(database_url, "SELECT id FROM feedback"))
        finally:
            await engine.dispose()
    finally:
        await _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
