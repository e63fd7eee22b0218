"""The evidence dossier's e-consultation and e-decision-making figures from consultations, each opening
exactly the records it counts."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import post_form
from tests.factories import PASSWORD, make_agency, make_token, make_user
from tests.test_consultations import citizen, published
from voice.accounts.models import Role, SubmitterKind
from voice.awards.editions import EditionService
from voice.consultations.models import Consultation
from voice.consultations.participation import ConsultationParticipationService
from voice.consultations.response import ArticleDecision, ConsultationResponseService


async def test_dossier_counts_consultations_and_opens_their_records(client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    admin = await make_user(db, Role.ADMIN)
    edition = await EditionService(session=db).create_edition(admin, {
        "number": "7", "name_ar": "الدورة ٧", "name_en": "Edition 7", "opens_on": "2025-01-01",
        "closes_on": "2025-12-31", "evidence_from": "2025-01-01", "evidence_to": "2025-12-31"})
    await db.commit()
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    reported, silent, outside = (await published(db, staff), await published(db, staff), await published(db, staff))
    other_agency = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    elsewhere = await published(db, other_agency)
    people = ConsultationParticipationService(session=db)
    individual = await citizen(db)
    business = await citizen(db, SubmitterKind.BUSINESS, "مؤسسة البناء الحديث")
    official = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    c1 = await people.comment(reported.id, individual, 1, "support", "التعريفات واضحة ومناسبة")
    c2 = await people.comment(reported.id, individual, 3, "oppose", "ساعات العمل طويلة على السكان")
    c3 = await people.comment(reported.id, business, 3, "suggest", "نقترح ساعات أطول في المواسم")
    c4 = await people.comment(silent.id, official, 2, "suggest", "نقترح التنسيق مع الدفاع المدني")
    r1 = await people.reply(reported.id, business, c2.id, "نتفهم رأيك ولكن المواسم تحتاج مرونة")
    await people.comment(outside.id, individual, 1, "support", "تعليق على استطلاع خارج المدة")
    await people.comment(elsewhere.id, individual, 1, "support", "تعليق على استطلاع جهة أخرى")
    await db.commit()
    for c, opens in ((reported, date(2025, 3, 1)), (silent, date(2025, 6, 1)), (outside, date(2024, 11, 1)),
                     (elsewhere, date(2025, 3, 1))):
        await db.execute(update(Consultation).where(Consultation.id == c.id).values(
            opens_on=opens, closes_on=opens.replace(day=28)))
    await db.commit()
    responses = ConsultationResponseService(session=db)
    await responses.record(staff, reported.id, [
        ArticleDecision(1, "kept"), ArticleDecision(3, "amended", "أخذنا بالمقترحين", "ساعات العمل حتى الحادية عشرة"),
        ArticleDecision(4, "added", "طلبت المنشآت استثناء المواسم", "يجوز تمديد الساعات في المواسم")])
    await responses.record(staff, outside.id, [ArticleDecision(2, "removed", "مكررة")])
    await db.commit()

    token = await make_token(db, staff)
    data = (await client.get(f"/api/v1/awards/editions/{edition.id}/evidence/{agency.slug}",
                             headers={"Authorization": f"Bearer {token}"})).json()
    stages = {s["key"]: {f["key"]: f for f in s["figures"]} for s in data["stages"]}
    consultation = stages["e_consultation"]
    assert consultation["consultations"]["value"] == 2  # reported and silent (outside opened in 2024)
    assert consultation["consultation_kind_individual"]["value"] == 1
    assert consultation["consultation_kind_individual"]["records"] == 2
    assert consultation["consultation_kind_business"]["value"] == 1
    assert consultation["consultation_kind_government"]["value"] == 1
    assert consultation["consultation_comments"]["value"] == 5  # four views and a reply
    answered = consultation["consultation_answered"]
    assert answered["value"] == pytest.approx(2 / 6) and answered["records"] == 2 and answered["denominator"] == 6
    assert consultation["consultation_changes"]["value"] == 2  # article 3 amended, article 4 added
    assert stages["e_decision_making"]["consultation_changes"]["value"] == 2

    assert (await post_form(client, "/signin", {"email": admin.email, "password": PASSWORD})).status_code == 303
    base = f"/awards/editions/{edition.id}/evidence/{agency.slug}/records?figure="

    async def ids(figure: str) -> set[int]:
        page = await client.get(base + figure)
        assert page.status_code == 200
        return {int(x) for x in re.findall(r'data-testid="record" data-id="(\d+)"', page.text)}

    assert await ids("consultations") == {reported.id, silent.id}
    assert await ids("consultation_comments") == {c1.id, c2.id, c3.id, c4.id, r1.id}
    assert await ids("consultation_kind_business") == {c3.id, r1.id}
    assert await ids("consultation_kind_government") == {c4.id}
    articles = {a.number: a.id for a in reported.articles}
    assert await ids("consultation_answered") == {articles[1], articles[3]}
    assert await ids("consultation_changes") == {articles[3], articles[4]}

    # Frozen for the judges: the same figures and records, kept without ids.
    from voice.awards.snapshots import DossierSnapshotService

    snapshot = await DossierSnapshotService(session=db).take(edition, agency)
    await db.commit()
    frozen = snapshot.dossier["figure_records"]
    assert len(frozen["consultation_comments"]) == 5 and len(frozen["consultation_changes"]) == 2
    texts = {r["text"] for r in snapshot.records if r["kind"] == "consultation_comment"}
    assert "نقترح ساعات أطول في المواسم" in texts

    # Dates in the records read as people read them: Gregorian with Hijri, the locale's digits, never ISO;
    # the frozen copy words them exactly as the live one does.
    live_page = (await client.get(base + "consultations")).text
    assert "2025-03-01" not in live_page and "٢٠٢٥" in live_page and "هـ" in live_page
    service = DossierSnapshotService(session=db)
    from voice.awards.snapshots import FrozenDossier
    from voice.i18n import use_locale

    with use_locale("ar"):
        frozen_dossier = FrozenDossier(None, snapshot.taken_at, snapshot)  # type: ignore[arg-type]
        frozen_rows = service.records(frozen_dossier, "consultations", blind=False)
        words = " ".join(" ".join(r.detail.values()) for r in frozen_rows)
        assert "2025-03-01" not in words and "٢٠٢٥" in words and "هـ" in words
        assert {"opens_on", "closes_on", "comments"} <= set(frozen_rows[0].detail)
    with use_locale("en"):
        words = " ".join(" ".join(r.detail.values()) for r in service.records(frozen_dossier, "consultations", False))
        assert "2025-03-01" not in words and "Mar 2025" in words and "AH" in words
