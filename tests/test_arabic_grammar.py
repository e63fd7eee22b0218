"""Number–noun agreement and one digit set per language, on every plural of the catalogs and on rendered
pages with counts 0, 1, 2, 3, 10, 11, 15, 100 and 101; Hijri dates beside Gregorian; digits typed in
either set."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncSession

from tests.arabic_scan import number_noun_errors, page_problems, wrong_digits
from tests.test_i18n import LOCALE
from voice import i18n
from voice.catalogue.models import Agency, Service

COUNTS = (0, 1, 2, 3, 10, 11, 15, 100, 101)


class _Numbers(dict):
    """%(num)s is the count; any other placeholder (a minimum, a total) another number."""

    def __init__(self, num: str, other: str) -> None:
        super().__init__(num=num)
        self.shown = other

    def __missing__(self, key: str) -> str:
        return self.shown


def _plurals(lang: str) -> list[tuple[str, str]]:
    catalog = read_po((LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb"), locale=lang)
    return [m.id for m in catalog if isinstance(m.id, tuple)]


def test_the_scan_catches_the_mistakes_readers_reported() -> None:
    for wrong in ("١٠ جهة حكومية", "أدت ملاحظات ١٥ شخص", "٦ محورًا", "٤ ملاحظة", "إلى ١ شخصًا", "٨ ملاحظة مرتبطة",
                  "خلال ٣ يوم", "١ مشاركات", "١٠٠ ملاحظات", "١١ رأي على المواد", "٣ رأي", "١٠١ آراء"):
        assert number_noun_errors(wrong), wrong
    for right in ("١٠ جهات", "١٥ شخصًا", "٦ محاور", "٤ ملاحظات", "شخص واحد", "ملاحظتان", "١٠٠ ملاحظة", "١٠١ جهة",
                  "١١ ملاحظةً", "٣ فبراير ٢٠٢٦", "١١ رأيًا على المواد", "٣ آراء", "١٠١ رأي"):
        assert not number_noun_errors(right), right
    assert wrong_digits("يُرجى كتابة 5 أحرف", "ar") and wrong_digits("1 من ٥", "ar")
    assert not wrong_digits("الخدمة G2C عبر Open311", "ar")
    assert wrong_digits("e-mail ٣ people", "en")


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_plural_in_the_catalog_agrees_with_its_count(lang: str) -> None:
    checked = 0
    with i18n.use_locale(lang):
        for singular, plural in _plurals(lang):
            for n in COUNTS:
                text = i18n.translations(lang).ungettext(singular, plural, n) % _Numbers(i18n.fmt_number(n), i18n.fmt_number(7))
                assert not wrong_digits(text, lang), (singular, n, text)
                if lang == "ar":
                    assert not number_noun_errors(text), (singular, n, text)
                    if n in (1, 2):  # spelled out: "شخص واحد", "ملاحظتان", never "١ شخص"
                        assert i18n.fmt_number(n) not in text, (singular, n, text)
                checked += 1
    assert checked >= 9 * 30


async def test_home_counts_agree_from_zero_to_a_hundred_and_one(client: httpx.AsyncClient,
                                                                 db: AsyncSession) -> None:
    made = 0
    for n in COUNTS:
        while made < n:
            made += 1
            agency = Agency(slug=f"count-{made}", name_ar=f"جهة {made}", name_en=f"Agency {made}")
            agency.services = [Service(slug="s", name_ar="خدمة", name_en="Service")]
            db.add(agency)
        await db.commit()
        for lang in ("ar", "en"):
            page = await client.get(f"/?lang={lang}")
            assert page.status_code == 200
            assert not page_problems(page.text, lang), (n, lang, page_problems(page.text, lang))
        ar = (await client.get("/?lang=ar")).text
        expected = {0: "لا جهات حكومية", 1: "جهة حكومية واحدة", 2: "جهتان حكوميتان", 3: "٣ جهات حكومية",
                    10: "١٠ جهات حكومية", 11: "١١ جهةً حكومية", 15: "١٥ جهةً حكومية", 100: "١٠٠ جهة حكومية",
                    101: "١٠١ جهة حكومية"}[n]
        assert expected in ar, (n, expected)


@pytest.mark.parametrize("n", COUNTS)
def test_bulk_preview_partial_agrees_with_its_counts(app: object, n: int) -> None:
    template = app.template_engine.get_template("workspace/partials/preview.html")  # type: ignore[attr-defined]
    for lang in ("ar", "en"):
        with i18n.use_locale(lang):
            html = template.render(items=n, people=n)
        assert not page_problems(html, lang), (n, lang, html)
    with i18n.use_locale("en"):
        html = template.render(items=n, people=n)
    assert ("1 person will get" in html) == (n == 1) and ("e-mail 1 people" not in html)


def test_dates_carry_the_umm_al_qura_date_in_both_languages() -> None:
    day = date(2026, 2, 3)  # 15 Sha'ban 1447 in the Umm al-Qura calendar
    with i18n.use_locale("ar"):
        assert i18n.fmt_date(day) == "٣ فبراير ٢٠٢٦ (١٥ شعبان ١٤٤٧ هـ)"
        stamp = i18n.fmt_date(datetime(2026, 2, 3, 21, 30, tzinfo=UTC), "short")
        assert "٤\u200f/٢\u200f/٢٠٢٦" in stamp and "١٦\u200f/٨\u200f/١٤٤٧ هـ" in stamp  # past midnight in Riyadh
        assert not wrong_digits(stamp, "ar")
    with i18n.use_locale("en"):
        assert i18n.fmt_date(day) == "3 Feb 2026 (15 Sha'ban 1447 AH)"


def test_numbers_typed_in_either_digit_set_are_read() -> None:
    assert i18n.parse_int("٧", 0, 10) == 7
    assert i18n.parse_int(" ۱۰ ", 0, 10) == 10
    assert i18n.parse_int("11", 0, 10) is None
    assert i18n.parse_int("٧٫٥", 0, 10) is None
    assert i18n.parse_int("²", 0, 10) is None


async def test_pages_use_one_digit_set_and_agree(client: httpx.AsyncClient, db: AsyncSession) -> None:
    """Public and staff pages with real records, in both languages: no digits of the other set in the interface
    (dates, counts, ratings, ARIA labels), no counted noun in the wrong form."""
    from tests.factories import PASSWORD, make_agency, make_user
    from voice.accounts.models import Role
    from voice.feedback.intake.service import IntakeService
    from voice.feedback.intake.submission import Submission
    from voice.feedback.lifecycle import LifecycleService

    agency = await make_agency(db, "passports")
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    items = [await IntakeService(db).submit(Submission(agency="passports", body=f"تأخر تجديد الجواز مرة {i}",
                                                       publish=True)) for i in range(3)]
    await LifecycleService(session=db).answer(staff, items[0].id, "عالجنا التأخير، جرّب الآن.", close=True)
    await db.commit()
    public = ["/", "/feedback/new", "/feedback", "/track", f"/track/{items[0].tracking_code}", "/ideas",
              "/you-said-we-did", "/signin", "/signup"]
    for lang in ("ar", "en"):
        for path in public:
            page = await client.get(path, params={"lang": lang}, follow_redirects=True)
            assert page.status_code == 200, (path, page.status_code)
            assert not page_problems(page.text, lang), (path, lang, page_problems(page.text, lang))
    from tests.conftest import post_form
    signed = await post_form(client, "/signin", {"email": staff.email, "password": PASSWORD})
    assert signed.status_code in (302, 303)
    for lang in ("ar", "en"):
        for path in ("/agency", "/agency/inbox", f"/agency/feedback/{items[0].id}", "/agency/transfers",
                     "/agency/improvements", "/agency/charts", "/agency/profile"):
            page = await client.get(path, params={"lang": lang}, follow_redirects=True)
            assert page.status_code == 200, (path, page.status_code)
            assert not page_problems(page.text, lang), (path, lang, page_problems(page.text, lang))


async def test_a_score_typed_in_arabic_indic_digits_is_saved(client: httpx.AsyncClient, db: AsyncSession) -> None:
    from sqlalchemy import select

    from tests.conftest import post_form
    from tests.test_awards import judging_setup, sign_in
    from voice.awards.models import Score

    _admin, _agency, _author, _ideas, _edition, branch, (judge, _other), entries = await judging_setup(db, 1)
    await sign_in(client, judge.email)
    url = f"/awards/judging/entries/{entries[0].id}"
    form = {**{f"score_{c.id}": "٧" for c in branch.criteria}, "action": "save"}
    assert (await post_form(client, url, form)).status_code == 303
    saved = (await db.scalars(select(Score.value).where(Score.criterion_id.in_([c.id for c in branch.criteria]))
                              .execution_options(populate_existing=True))).all()
    assert saved and set(saved) == {7}
    page = await client.get(url)
    assert 'value="٧"' in page.text and 'type="number"' not in page.text  # what a phone's Arabic keyboard types
    assert "(٠–" in page.text and "(0–" not in page.text
    wrong = await post_form(client, url, {**{f"score_{c.id}": "١١" for c in branch.criteria}, "action": "save"})
    assert wrong.status_code == 422 and "عدد صحيح من ٠ إلى ١٠." in wrong.text


async def _signed_in(app: object, email: str) -> httpx.AsyncClient:
    from tests.conftest import post_form
    from tests.factories import PASSWORD

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")  # type: ignore[arg-type]
    assert (await post_form(client, "/signin", {"email": email, "password": PASSWORD})).status_code == 303
    return client


@pytest.mark.slow  # hundreds of records and ~300 pages: two minutes on a busy machine
async def test_pages_with_counts_agree_at_every_count(app: object, client: httpx.AsyncClient,
                                                     db: AsyncSession) -> None:
    """Every page that shows a count, at 0, 1, 2, 3, 10, 11, 15, 100 and 101 of what it counts, driven through
    the services: an agency's feedback (board, inbox, dashboard, staff lists), "me too" on one item, votes and
    comments on one idea, views on one consultation. Public pages as a visitor, staff pages as the agency's
    administrator, the moderation pages as the platform's; in both languages, no wrong number-noun pair and
    one digit set."""
    from datetime import timedelta

    from sqlalchemy import select

    from ideas.participation import IdeaParticipationService
    from ideas.services import IdeaDraft, IdeaService
    from tests.factories import make_agency, make_user
    from voice.accounts.models import Role
    from voice.consultations.access import today
    from voice.consultations.participation import ConsultationParticipationService
    from voice.consultations.services import ArticleDraft, ConsultationDraft, ConsultationService
    from voice.feedback.board import BoardService
    from voice.feedback.intake.service import IntakeService
    from voice.feedback.intake.submission import Submission
    from voice.feedback.models import Feedback
    from voice.workspace.improvements import ImprovementService

    agency = await make_agency(db, "passports")
    boss = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    admin = await make_user(db, Role.ADMIN)
    people = [await make_user(db) for _ in range(max(COUNTS))]
    author = await make_user(db)
    first = await IntakeService(db).submit(Submission(agency="passports", body="تأخر تجديد الجواز أكثر من أسبوع",
                                                      publish=True))
    idea = await IdeaService(db).submit(IdeaDraft(title="تجديد الجواز دون زيارة المكتب",
                                                  description="إتاحة تجديد جواز السفر بالكامل عبر التطبيق"), author)
    consultations = ConsultationService(session=db)
    consultation = await consultations.create(boss, ConsultationDraft(
        title_ar="مسودة لائحة المواعيد", summary_ar="تنظيم حجز المواعيد في مكاتب الجوازات",
        opens_on=today().isoformat(), closes_on=(today() + timedelta(days=30)).isoformat(),
        articles=[ArticleDraft("1", "الحجز", "يحجز المستفيد موعده عبر المنصة.")]))
    await consultations.publish(boss, consultation.id)
    await db.commit()
    public = ["/", "/feedback", f"/feedback/{first.id}", f"/track/{first.tracking_code}", "/ideas",
              f"/ideas/{idea.id}", "/consultations", f"/consultations/{consultation.id}"]
    staff = ["/agency", "/agency/inbox", "/agency/feedback", f"/agency/feedback/{first.id}",
             "/agency/consultations", f"/agency/consultations/{consultation.id}"]
    moderators = ["/admin", "/admin/moderation", "/admin/ideas", "/admin/agencies"]
    readers = [(client, public), (await _signed_in(app, boss.email), staff), (await _signed_in(app, admin.email),
                                                                                  moderators)]
    improvements = ImprovementService(session=db)
    delivered = await improvements.save(boss, {"title": "رسائل التحقق تصل خلال دقيقة", "kind": "service",
                                               "status": "delivered", "description": "غيّرنا مزوّد الرسائل النصية."})
    await db.commit()
    public.append("/you-said-we-did")
    staff.append("/agency/improvements")
    board, votes = BoardService(session=db), IdeaParticipationService(session=db)
    views = ConsultationParticipationService(session=db)
    made = 0
    try:
        for n in COUNTS:
            for person in people[made:n]:
                made += 1
                if made > 1:  # the first item is already there
                    await IntakeService(db).submit(Submission(agency="passports", publish=True,
                                                              body=f"لم تصل رسالة التحقق عند الحجز رقم {made}"))
                await board.support(first.id, None, f"device-{made}")
                await votes.vote(idea.id, person)
                await votes.comment(idea.id, person, f"أؤيد الفكرة، جربت التجديد في المكتب {made} مرات")
                await views.comment(consultation.id, person, "1", "support", "أؤيد الحجز المسبق لأنه يختصر الانتظار")
            # The delivered improvement answers every item so far ("feedback from n people led to this").
            items = (await db.scalars(select(Feedback.id).where(Feedback.agency_id == agency.id))).all()
            await improvements.save(boss, {"title": "رسائل التحقق تصل خلال دقيقة", "kind": "service",
                                           "status": "delivered", "feedback": [str(i) for i in items[:n]]},
                                    delivered.id)
            await db.commit()
            for reader, paths in readers:
                for path in paths:
                    for lang in ("ar", "en"):
                        page = await reader.get(path, params={"lang": lang})
                        assert page.status_code == 200, (n, path, page.status_code)
                        assert not page_problems(page.text, lang), (n, path, lang, page_problems(page.text, lang))
    finally:
        for reader, _paths in readers[1:]:
            await reader.aclose()


@pytest.mark.slow  # an award edition with up to 101 entries per count
@pytest.mark.parametrize("n", COUNTS)
async def test_award_pages_agree_with_their_entry_counts(app: object, client: httpx.AsyncClient, db: AsyncSession,
                                                        n: int) -> None:
    """The judge's list and the edition's admin page with n ideas entered in e-contribution (0 … 101)."""
    from tests.test_awards import judging_setup

    admin, _agency, _author, _ideas, edition, _branch, (judge, _other), _entries = await judging_setup(db, n)
    edition.name_ar = "الدورة الثانية"  # as an administrator writes it (the fixture's "الدورة 2" is test data)
    await db.commit()
    for email, path in ((judge.email, "/awards/judging"), (admin.email, f"/awards/admin/editions/{edition.id}"),
                        (admin.email, "/awards/admin")):
        reader = await _signed_in(app, email)
        try:
            for lang in ("ar", "en"):
                page = await reader.get(path, params={"lang": lang})
                assert page.status_code == 200, (n, path, page.status_code)
                assert not page_problems(page.text, lang), (n, path, lang, page_problems(page.text, lang))
        finally:
            await reader.aclose()
