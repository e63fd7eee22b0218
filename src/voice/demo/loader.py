"""Load the demo data set into the database (idempotent unless forced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voice.catalogue.models import Agency
from voice.catalogue.services import AgencyService

DATA = Path(__file__).parent / "data"


def read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def load_demo(session: AsyncSession, *, force: bool = False) -> str:
    existing = await session.scalar(select(func.count()).select_from(Agency))
    if existing and not force:
        return "demo data: database already has data, nothing loaded"
    agencies = AgencyService(session=session)
    for item in read("agencies.json"):
        await agencies.upsert(item)
    return f"demo data: {len(read('agencies.json'))} agencies"
