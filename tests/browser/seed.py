"""Records the browser tests start from, made through the app's own domain services."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ideas.services import IdeaDraft, IdeaService
from nlp import Theme as FittedTheme
from nlp import ThemeModel as Fitter
from nlp.themes.groups import ThemeGroup as FittedGroup
from tests.factories import make_agency, make_user
from voice.accounts.models import Role
from voice.catalogue.models import Agency
from voice.feedback.board import BoardFilters, BoardService
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.themes.groups import store_groups
from voice.themes.models import Theme
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


# The dashboard's two levels: (top-level id, its name, its themes as (id, name, keywords, items)); the
# last is the "other" bucket. Eight items of one theme arrived today: it is emerging, so its card opens.
THEMES = [
    (1, "مواعيد الجوازات", [(1, "توجد مواعيد متاحة", ["موعد", "متاحة", "الحجز"], 8),
                            (2, "تأخر تجديد الجواز", ["تجديد", "الجواز"], 2)]),
    (3, "الرمز ما يوصل", [(3, "الرمز ما يوصل", ["رمز", "التحقق", "الجوال"], 1)]),
    (4, "good service", [(4, "good service", ["good"], 1)]),
]


async def themed(db: AsyncSession, agency: Agency) -> None:
    """Put the agency's feedback into ``THEMES`` as a refresh would (the swap's own ``store_groups``)."""
    model = Fitter()
    model.themes_ = [FittedTheme(id=i, label=name, keywords=words, representative=[], size=n, quality=0.5,
                                 other=g == THEMES[-1][0]) for g, _n, children in THEMES for i, name, words, n in children]
    model.groups_ = [FittedGroup(id=g, label=name, children=[c[0] for c in children],
                                 size=sum(c[3] for c in children), other=g == THEMES[-1][0])
                     for g, name, children in THEMES]
    rows = {str(t.id): Theme(agency_id=agency.id, key=str(t.id), label=t.label, keywords=t.keywords, size=t.size)
            for t in model.themes_}
    db.add_all(rows.values())
    await db.flush()
    await store_groups(db, agency.id, "feedback", model, rows)
    items = (await db.scalars(select(Feedback.id).where(Feedback.agency_id == agency.id).order_by(Feedback.id))).all()
    plan = [rows[str(t.id)].id for t in model.themes_ for _ in range(t.size)]
    for item, theme_id in zip(items, plan, strict=False):
        await db.execute(update(Feedback).where(Feedback.id == item).values(theme_id=theme_id))


async def pages_to_visit(db: AsyncSession) -> dict[str, str]:
    """A demo agency with feedback, a member of staff, a citizen's idea and a delivered improvement;
    returns the staff e-mail and the addresses of an idea, a tracking page and a staff item page."""
    agency = await demo_agency(db, "passports", feedback=12)
    await themed(db, agency)
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
