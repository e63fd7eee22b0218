"""E-consultation through its services: drafting with numbered articles, publishing, the comment window,
one stance per person and article, replies, organisations, moderation, themes and the response report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency, make_user
from voice.accounts.models import Role, SubmitterKind, User
from voice.consultations.access import today
from voice.consultations.insights import ConsultationInsightService, theme_scope
from voice.consultations.models import Consultation, ConsultationComment, ConsultationStatus, Decision
from voice.consultations.participation import ConsultationParticipationService
from voice.consultations.response import ArticleDecision, ConsultationResponseService
from voice.consultations.services import ArticleDraft, ConsultationDraft, ConsultationService
from voice.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voice.notifications.models import Notification

ARTICLES = [
    ArticleDraft(1, "التعريفات", "يقصد بالألفاظ والعبارات الآتية المعاني المبينة أمامها ما لم يقتض السياق غير ذلك."),
    ArticleDraft(2, "نطاق التطبيق", "تسري أحكام هذه اللائحة على جميع المنشآت التجارية في المدن والمحافظات."),
    ArticleDraft(3, "ساعات العمل", "تحدد ساعات العمل للمحلات التجارية من السادسة صباحاً حتى منتصف الليل."),
]


def draft(**overrides: object) -> ConsultationDraft:
    values: dict = {"title_ar": "مشروع لائحة تنظيم ساعات عمل المحلات التجارية",
                    "summary_ar": "تعرض الوزارة مشروع اللائحة لأخذ مرئيات العموم والمنشآت والجهات الحكومية.",
                    "opens_on": today().isoformat(), "closes_on": (today() + timedelta(days=30)).isoformat(),
                    "articles": list(ARTICLES)}
    values.update(overrides)
    return ConsultationDraft(**values)


async def published(db: AsyncSession, staff: User, **overrides: object) -> Consultation:
    service = ConsultationService(session=db)
    consultation = await service.create(staff, draft(**overrides))
    await service.publish(staff, consultation.id)
    await db.commit()
    return consultation


async def citizen(db: AsyncSession, kind: SubmitterKind = SubmitterKind.INDIVIDUAL,
                  organisation: str | None = None) -> User:
    user = await make_user(db)
    user.kind, user.organisation = kind, organisation
    await db.commit()
    return user


async def end_window(db: AsyncSession, consultation: Consultation) -> None:
    """The comment window ended yesterday (as if time had passed)."""
    await db.execute(update(Consultation).where(Consultation.id == consultation.id).values(
        opens_on=today() - timedelta(days=40), closes_on=today() - timedelta(days=1)))
    await db.commit()


async def test_staff_draft_publish_extend_and_close_early_with_a_reason(db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    service = ConsultationService(session=db)
    consultation = await service.create(staff, draft(audience=["individual", "business"]))
    assert consultation.status is ConsultationStatus.DRAFT and consultation.agency_id == agency.id
    assert [a.number for a in consultation.articles] == [1, 2, 3]
    assert consultation.audience == ["individual", "business"]
    # A draft is invisible to the public; the agency sees it.
    with pytest.raises(NotFound):
        await service.visible(consultation.id, None)
    assert (await service.visible(consultation.id, staff)).id == consultation.id
    other = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    with pytest.raises(NotFound):
        await service.publish(other, consultation.id)
    # Rewriting a draft replaces its articles by number.
    await service.update(staff, consultation.id, draft(articles=[ARTICLES[0], ArticleDraft(4, "", "نص المادة الرابعة الجديدة")]))
    assert [a.number for a in consultation.articles] == [1, 4]
    await service.publish(staff, consultation.id)
    assert consultation.status is ConsultationStatus.PUBLISHED and consultation.published_at
    assert [c.id for c in await service.public()] == [consultation.id]
    with pytest.raises(Conflict):
        await service.update(staff, consultation.id, draft())
    with pytest.raises(ValidationFailed):
        await service.extend(staff, consultation.id, consultation.closes_on.isoformat())
    later = consultation.closes_on + timedelta(days=7)
    await service.extend(staff, consultation.id, later.isoformat())
    assert consultation.closes_on == later
    with pytest.raises(ValidationFailed) as missing:
        await service.close(staff, consultation.id, "")
    assert "reason" in missing.value.errors
    await service.close(staff, consultation.id, "صدر قرار بتأجيل المشروع، للتواصل 0501234567")
    assert consultation.status is ConsultationStatus.CLOSED
    assert "0501234567" not in consultation.close_reason  # public text goes through the redactor
    await db.commit()


async def test_bad_drafts_are_refused_with_every_problem_named(db: AsyncSession) -> None:
    staff = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    service = ConsultationService(session=db)
    with pytest.raises(ValidationFailed) as bad:
        await service.create(staff, draft(title_ar="", opens_on="غدا", articles=[ArticleDraft(1, "", "نص أول كاف"),
                                                                               ArticleDraft(1, "", "نص ثان كاف")]))
    assert {"title_ar", "opens_on", "articles"} <= set(bad.value.errors)
    with pytest.raises(ValidationFailed) as order:
        await service.create(staff, draft(closes_on=(today() - timedelta(days=1)).isoformat()))
    assert "closes_on" in order.value.errors
    with pytest.raises(ValidationFailed):
        await service.create(staff, draft(audience=["aliens"]))
    with pytest.raises(Forbidden):
        await service.create(await make_user(db), draft())
    assert await db.scalar(select(func.count()).select_from(Consultation)) == 0


async def test_one_stance_per_person_and_article_editable_until_it_closes(db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    consultation = await published(db, staff)
    person = await citizen(db)
    people = ConsultationParticipationService(session=db)
    comment = await people.comment(consultation.id, person, 3, "oppose",
                                   "ساعات العمل حتى منتصف الليل طويلة على الأحياء السكنية، هاتفي 0551234567")
    assert comment.stance.value == "oppose" and comment.author_kind is SubmitterKind.INDIVIDUAL
    assert "0551234567" in comment.body and "0551234567" not in comment.body_public
    with pytest.raises(Conflict):
        await people.comment(consultation.id, person, 3, "support", "أغير رأيي وأؤيد المادة كما هي")
    with pytest.raises(ValidationFailed) as unknown:
        await people.comment(consultation.id, person, 9, "support", "تعليق على مادة غير موجودة")
    assert "article" in unknown.value.errors
    with pytest.raises(ValidationFailed) as stance:
        await people.comment(consultation.id, person, 2, "maybe", "موقف غير معروف من المادة")
    assert "stance" in stance.value.errors
    edited = await people.edit(comment.id, person, "suggest", "أقترح أن تنتهي ساعات العمل عند الحادية عشرة")
    assert edited.stance.value == "suggest" and edited.edited_at is not None
    # Someone else may not edit it.
    with pytest.raises(NotFound):
        await people.edit(comment.id, await citizen(db), "support", "محاولة تعديل تعليق شخص آخر")
    reply = await people.reply(consultation.id, await citizen(db), comment.id, "أتفق معك في هذا الاقتراح")
    assert reply.parent_id == comment.id and reply.stance is None and reply.article_id == comment.article_id
    agency_reply = await people.reply(consultation.id, staff, comment.id, "نشكر لكم المقترح وسندرسه")
    assert agency_reply.organisation == agency.name_ar
    await db.refresh(consultation)
    assert consultation.comments_count == 3
    await end_window(db, consultation)
    with pytest.raises(Conflict):
        await people.edit(comment.id, person, "support", "تعديل بعد انتهاء المدة")
    with pytest.raises(Conflict):
        await people.comment(consultation.id, await citizen(db), 1, "support", "تعليق بعد انتهاء المدة")


async def test_businesses_and_agencies_speak_as_their_organisation_within_the_audience(db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    consultation = await published(db, staff, audience=["business", "government"])
    people = ConsultationParticipationService(session=db)
    shop = await citizen(db, SubmitterKind.BUSINESS, "مؤسسة الريان التجارية")
    comment = await people.comment(consultation.id, shop, 3, "oppose", "نحتاج ساعات أطول في المواسم والأعياد")
    assert comment.author_kind is SubmitterKind.BUSINESS and comment.speaker == "مؤسسة الريان التجارية"
    other_agency = await make_agency(db)
    official = await make_user(db, Role.AGENCY_STAFF, agency=other_agency)
    g2g = await people.comment(consultation.id, official, 2, "suggest", "نقترح استثناء الصيدليات المناوبة")
    assert g2g.author_kind is SubmitterKind.GOVERNMENT and g2g.organisation_agency_id == other_agency.id
    assert g2g.speaker == other_agency.name_ar
    with pytest.raises(Forbidden):  # individuals are not in this audience
        await people.comment(consultation.id, await citizen(db), 1, "support", "أؤيد هذه المادة تماما")
    with pytest.raises(Forbidden):  # the consulting agency answers in its report
        await people.comment(consultation.id, staff, 1, "support", "تعليق من موظف الجهة نفسها")
    with pytest.raises(Forbidden):
        await people.comment(consultation.id, await make_user(db, Role.ADMIN), 1, "support", "تعليق من مدير المنصة")


async def test_reports_and_moderation_hide_a_comment_for_administrators_only(db: AsyncSession) -> None:
    staff = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    consultation = await published(db, staff)
    people = ConsultationParticipationService(session=db)
    comment = await people.comment(consultation.id, await citizen(db), 1, "oppose", "تعليق فيه إساءة لشخص بعينه")
    report = await people.report(comment.id, "إساءة", await citizen(db))
    assert [r.id for r in await people.queue()] == [report.id]
    with pytest.raises(Forbidden):
        await people.moderate(staff, comment.id, True, "إساءة")
    admin = await make_user(db, Role.ADMIN)
    with pytest.raises(ValidationFailed):
        await people.moderate(admin, comment.id, True, "")
    await people.moderate(admin, comment.id, True, "إساءة شخصية")
    assert comment.hidden and await people.queue() == []
    await db.refresh(consultation)
    assert consultation.comments_count == 0


async def test_response_report_after_closing_notifies_participants(db: AsyncSession) -> None:
    agency = await make_agency(db)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    consultation = await published(db, staff)
    people = ConsultationParticipationService(session=db)
    first, second = await citizen(db), await citizen(db)
    await people.comment(consultation.id, first, 3, "oppose", "الساعات طويلة وتزعج السكان ليلا")
    await people.comment(consultation.id, second, 3, "suggest", "اقترح أن تغلق المحلات عند الحادية عشرة")
    await people.comment(consultation.id, second, 1, "support", "التعريفات واضحة ومفهومة")
    await db.commit()
    responses = ConsultationResponseService(session=db)
    with pytest.raises(Conflict):  # still open
        await responses.record(staff, consultation.id, [ArticleDecision(1, "kept")])
    await end_window(db, consultation)
    with pytest.raises(ValidationFailed) as no_reason:
        await responses.record(staff, consultation.id, [ArticleDecision(3, "amended")])
    assert "reason" in no_reason.value.errors
    with pytest.raises(ValidationFailed):
        await responses.record(staff, consultation.id, [ArticleDecision(8, "kept")])
    with pytest.raises(ValidationFailed):
        await responses.record(staff, consultation.id, [ArticleDecision(9, "added", "سبب")])  # no text
    with pytest.raises(NotFound):
        await responses.public(consultation.id)
    await responses.record(staff, consultation.id, [
        ArticleDecision(1, "kept"),
        ArticleDecision(3, "amended", "أخذنا بمقترح تقليص الساعات", "تحدد ساعات العمل من السادسة صباحاً حتى الحادية عشرة مساءً."),
        ArticleDecision(4, "added", "طلبت منشآت استثناء المواسم", "يجوز للوزارة تمديد ساعات العمل في المواسم والأعياد.",
                        "الاستثناءات"),
    ], summary="شكراً لكل من شارك.")
    await db.commit()
    assert consultation.status is ConsultationStatus.CLOSED and consultation.report_published_at
    report = await responses.public(consultation.id)
    rows = {r.article.number: r for r in report.rows}
    assert rows[3].counts == {"support": 0, "oppose": 1, "suggest": 1}
    assert rows[3].article.decision is Decision.AMENDED and "الحادية عشرة" in rows[3].article.amended_body
    assert rows[4].article.added_in_report and rows[4].article.decision is Decision.ADDED
    assert report.answered == 2 and report.draft_articles == 3 and report.participants == 2
    notes = (await db.scalars(select(Notification).order_by(Notification.to_address))).all()
    assert sorted(n.to_address for n in notes) == sorted([first.email, second.email])
    assert f"/consultations/{consultation.id}/report" in notes[0].body
    # Publishing again (a correction) does not mail anyone twice.
    await responses.record(staff, consultation.id, [ArticleDecision(2, "removed", "المادة مكررة")])
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(Notification)) == 2


@pytest.mark.slow
async def test_themes_over_a_consultation_use_the_theme_engine_in_its_own_scope(db: AsyncSession, run_jobs) -> None:
    from voice.themes.models import Theme

    staff = await make_user(db, Role.AGENCY_STAFF, agency=await make_agency(db))
    consultation = await published(db, staff)
    people = ConsultationParticipationService(session=db)
    texts = {
        1: ["تعريف المنشأة التجارية غير واضح في المادة", "التعريفات تحتاج تعريف المنشأة الصغيرة",
            "تعريف المنشأة التجارية ناقص ويحتاج توضيح", "أضيفوا تعريف المنشأة المنزلية إلى التعريفات"],
        2: ["الغرامة المالية مرتفعة على المخالفة الأولى", "نقترح إنذارا قبل الغرامة المالية",
            "الغرامة المالية تثقل المنشآت الصغيرة", "تخفيض الغرامة المالية للمخالفة الأولى"],
        3: ["ساعات العمل طويلة وتزعج السكان ليلا", "إغلاق المحلات منتصف الليل يزعج السكان",
            "ساعات العمل المتأخرة ليلا تزعج السكان", "تقليص ساعات العمل ليلا أفضل للسكان"],
    }
    for number, comments in texts.items():
        for text in comments:
            await people.comment(consultation.id, await citizen(db), number, "suggest", text)
    await db.commit()
    insights = ConsultationInsightService(session=db)
    run = await insights.refresh_themes(staff, consultation.id)
    assert run.scope == theme_scope(consultation.id) == f"cons_{consultation.id}"
    await db.commit()
    await run_jobs()
    themes = (await db.scalars(select(Theme).where(Theme.scope == run.scope, Theme.retired.is_(False)))).all()
    assert len(themes) >= 2 and all(t.agency_id == consultation.agency_id for t in themes)
    themed = await db.scalar(select(func.count()).select_from(ConsultationComment).where(
        ConsultationComment.consultation_id == consultation.id, ConsultationComment.theme_id.is_not(None)))
    assert themed == 12
    view = await insights.read(staff, consultation.id)
    by_number = {a.number: view.articles[a.id] for a in consultation.articles}
    assert by_number[3].counts["suggest"] == 4 and by_number[3].themes
    assert len(by_number[1].representative) == 3
    assert view.participants == {"individual": 12}


@pytest.mark.slow  # a few hundred comments through the services
async def test_demo_consultations_load_through_the_services(db: AsyncSession) -> None:
    import random

    from voice.catalogue.services import AgencyService
    from voice.consultations.models import ConsultationArticle
    from voice.demo.consultations import load_consultations
    from voice.demo.loader import DEMO_PASSWORD, _people, read

    agencies = {a.slug: a for a in [await AgencyService(session=db).upsert(item) for item in read("agencies.json")]}
    users = await _people(db, agencies)
    held, comments = await load_consultations(db, users, agencies, DEMO_PASSWORD, random.Random(2026))
    await db.commit()
    assert held == 2 and comments >= 300
    rows = (await db.scalars(select(Consultation).order_by(Consultation.id))).unique().all()
    closed, open_now = rows
    assert closed.report_published_at is not None and closed.status is ConsultationStatus.CLOSED
    assert open_now.is_open(today()) and open_now.report_published_at is None
    bodies = set((await db.scalars(select(ConsultationComment.body))).all())
    assert len(bodies) >= 200  # varied texts, not one sentence repeated
    kinds = set((await db.scalars(select(ConsultationComment.author_kind).distinct())).all())
    assert kinds == set(SubmitterKind)
    decisions = dict((await db.execute(select(ConsultationArticle.decision, func.count()).where(
        ConsultationArticle.consultation_id == closed.id).group_by(ConsultationArticle.decision))).all())
    assert decisions == {Decision.KEPT: 5, Decision.AMENDED: 2, Decision.REMOVED: 1, Decision.ADDED: 1}
    assert await db.scalar(select(func.count()).select_from(Notification)) > 20  # the participants were told
