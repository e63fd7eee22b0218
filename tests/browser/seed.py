"""Records the browser tests start from, made through the app's own domain services."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ideas.services import IdeaDraft, IdeaService
from tests.factories import make_agency, make_user
from voice.accounts.models import Role
from voice.catalogue.models import Agency
from voice.feedback.board import BoardFilters, BoardService
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.workspace.improvements import ImprovementService

DEMO = Path(__file__).resolve().parents[2] / "src" / "voice" / "demo" / "data"


async def demo_agency(db: AsyncSession, slug: str = "passports", feedback: int = 0) -> Agency:
    """A demo agency with its real services and, if asked, up to ``feedback`` of its demo feedback items."""
    spec = next(a for a in json.loads((DEMO / "agencies.json").read_text(encoding="utf-8")) if a["slug"] == slug)
    agency = await make_agency(db, slug, name_ar=spec["name_ar"], name_en=spec["name_en"],
                               sla_days=spec["sla_days"], services=spec["services"])
    if feedback:
        rows = [r for r in json.loads((DEMO / "feedback.json").read_text(encoding="utf-8")) if r["agency"] == slug]
        service = IntakeService(db)
        for n, row in enumerate(rows[:feedback]):
            await service.submit(Submission(
                agency=slug, service=row.get("service"), kind=row["kind"], submitter_kind=row["submitter_kind"],
                body=row["body"], rating=row.get("rating"), publish=True,
                contact_email=f"citizen{n}@example.sa" if n % 3 == 0 else None))
        await db.commit()
    return agency


async def pages_to_visit(db: AsyncSession) -> dict[str, str]:
    """A demo agency with feedback, a member of staff, a citizen's idea and a delivered improvement;
    returns the staff e-mail and the addresses of an idea, a tracking page and a staff item page."""
    agency = await demo_agency(db, "passports", feedback=12)
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    citizen = await make_user(db)
    idea = await IdeaService(db).submit(IdeaDraft(
        title="تجديد الجواز دون زيارة المكتب", description="إتاحة تجديد جواز السفر بالكامل عبر التطبيق مع التوصيل للمنزل"),
        citizen)
    await ImprovementService(session=db).save(staff, {
        "title": "رسائل التحقق تصل خلال دقيقة", "description": "غيّرنا مزوّد الرسائل النصية.",
        "kind": "service", "status": "delivered"})
    item = (await BoardService(session=db).board(BoardFilters())).items[0]
    await db.commit()
    return {"staff": staff.email, "idea": f"/ideas/{idea.id}", "track": f"/track/{item.tracking_code}",
            "item": f"/agency/feedback/{item.id}",
            "public_item": f"/feedback/{item.id}"}
