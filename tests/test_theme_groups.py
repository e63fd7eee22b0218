"""Two levels of themes on the platform: a refresh stores each theme's top-level theme (at most 15, plus the
"other" bucket), the agency dashboard shows one card per top-level theme with its sub-themes under it and
"other" last, the agency API gives each theme's parent, and staff names (of a theme and of a top-level
theme) survive a refresh."""

from __future__ import annotations

import random
import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp import Theme as FittedTheme
from nlp import ThemeModel as Fitter
from nlp.themes.groups import MAX_GROUPS
from nlp.themes.groups import ThemeGroup as FittedGroup
from tests.browser.seed import THEMES, demo_agency, themed
from tests.conftest import post_form
from tests.factories import make_agency, make_token, make_user
from tests.test_workspace import fresh, refresh, sign_in
from voice.accounts.models import Role
from voice.feedback.intake.service import IntakeService
from voice.feedback.intake.submission import Submission
from voice.feedback.models import Feedback
from voice.themes.groups import store_groups
from voice.themes.models import Theme, ThemeGroup
from voice.workspace.dashboard import ThemeStats, top_level

# Many requests an agency hears about, each in a few wordings: a refresh finds more themes than a person
# triages, so they must come in top-level themes.
SUBJECTS = ["تجديد جواز السفر", "رخصة القيادة", "الهوية الوطنية", "السجل التجاري", "فاتورة الكهرباء",
            "فاتورة المياه", "موعد المستشفى", "صرف الدواء", "القبول الجامعي", "المنحة الدراسية", "تأشيرة العمل",
            "تأشيرة الزيارة", "مخالفات المرور", "تسجيل المركبة", "الدعم السكني", "رخصة البناء",
            "الضمان الاجتماعي", "حساب المواطن", "التأمينات الاجتماعية", "نقل الكفالة", "الإقامة",
            "شهادة الميلاد", "عقد الزواج", "الصك العقاري", "رخصة المحل", "الزكاة والدخل", "الجمارك والشحن",
            "البريد والطرود", "الإنترنت المنزلي", "البلاغ الأمني"]
PROBLEMS = ["تأخر كثيرا", "الطلب معلق", "الموقع لا يعمل", "ما وصلني رد", "الرسوم مرتفعة", "رفض بدون سبب",
            "الخدمة متوقفة", "أحتاج مساعدة في"]
# Texts that say nothing or are in another language: the "other" bucket.
ASIDE = ["شكرا لكم", "شكرا لكم 🙏", "good service", "thanks a lot", "very slow app", "ok thanks"]


def many_requests() -> list[str]:
    r = random.Random(0)
    texts = [f"{s} {p}" if r.random() < 0.5 else f"{p} {s}" for s in SUBJECTS for p in r.sample(PROBLEMS, 6)]
    r.shuffle(texts)
    return texts + ASIDE


async def submit(db: AsyncSession, slug: str, texts: list[str]) -> list[Feedback]:
    intake = IntakeService(db)
    items = [await intake.submit(Submission(agency=slug, body=body, publish=True)) for body in texts]
    await db.commit()
    return items


def cards(page: str) -> list[str]:
    """The dashboard's top-level theme cards, in order (each card's HTML)."""
    return page.split('data-testid="theme-card"')[1:]


def theme_links(card: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/agency/themes/(\d+)"', card)}


async def test_a_refresh_stores_two_levels_shown_as_at_most_15_cards_and_names_survive(
        client: httpx.AsyncClient, db: AsyncSession, run_jobs) -> None:
    agency = await make_agency(db, "registry")
    await submit(db, "registry", many_requests())
    staff = await make_user(db, Role.AGENCY_ADMIN, agency=agency)
    token = await make_token(db, staff)
    await sign_in(client, staff.email)
    await refresh(client, run_jobs)

    themes = (await db.scalars(select(Theme).where(Theme.agency_id == agency.id, Theme.retired.is_(False)))).all()
    groups = {g.id: g for g in (await db.scalars(select(ThemeGroup).where(
        ThemeGroup.agency_id == agency.id))).all()}
    regular = [g for g in groups.values() if not g.other]
    assert len(themes) > 15 > len(regular) >= 2  # more themes than a person triages, in fewer top-level ones
    assert all(t.group_id in groups for t in themes)  # every theme under a live top-level theme of its agency
    assert {t.group_id for t in themes} == set(groups)  # and no empty top-level theme
    other = [g for g in groups.values() if g.other]
    assert len(other) == 1 and all(t.other == (t.group_id == other[0].id) for t in themes)
    aside = await db.scalars(select(Feedback.theme_id).where(Feedback.body.in_(ASIDE)))
    assert {groups[next(t.group_id for t in themes if t.id == i)].other for i in aside.all()} == {True}

    page = (await client.get("/agency/")).text
    shown = cards(page)
    assert len(shown) == len(groups) and len([c for c in shown if 'data-other="1"' not in c]) <= MAX_GROUPS
    assert 'data-other="1"' in shown[-1] and "أخرى" in shown[-1]  # the "other" bucket comes last, named so
    for card in shown:  # each theme is listed under its own top-level theme, once
        ids = theme_links(card)
        assert len({next(t.group_id for t in themes if t.id == i) for i in ids}) == 1
    assert sorted(i for c in shown for i in theme_links(c)) == sorted(t.id for t in themes)
    assert page.count('data-testid="sub-theme"') >= len(themes) - len(shown)
    # Counts in Arabic words and Arabic-Indic digits, one digit set.
    written = re.findall(r'data-testid="theme-totals">(.*?)</p>|<summary>(.*?)</summary>', page)
    assert written and all(re.search("[٠-٩]|فرعي", a + b) and not re.search("[0-9]", a + b) for a, b in written)
    english = (await client.get("/agency/?lang=en")).text
    assert "Other" in cards(english)[-1] and "sub-themes" in english

    api = (await client.get("/api/v1/agency/themes", headers={"Authorization": f"Bearer {token}"})).json()
    assert {t["id"]: t["parent"] for t in api} == {t.id: t.group_id for t in themes}
    assert all(t["parent_label"] == groups[t["parent"]].label for t in api)

    # Staff name a sub-theme and a top-level theme.
    multi = next(g for g in regular if sum(t.group_id == g.id for t in themes) > 1)
    child = next(t for t in themes if t.group_id == multi.id)
    assert (await post_form(client, f"/agency/themes/{child.id}/rename", {"label": "طلبات عالقة"})).status_code == 303
    assert (await post_form(client, f"/agency/themes/groups/{multi.id}/rename",
                            {"label": "خدمات الأحوال"})).status_code == 303
    assert "خدمات الأحوال" in (await client.get("/agency/")).text
    # More of the same requests arrive (the themes did not change): the names stay.
    await submit(db, "registry", many_requests()[:20])
    await refresh(client, run_jobs)
    assert (await fresh(db, Theme, child.id)).label == "طلبات عالقة"
    renamed = (await fresh(db, ThemeGroup, multi.id))
    assert renamed.label == "خدمات الأحوال" and renamed.renamed
    assert (await fresh(db, Theme, child.id)).group_id == multi.id
    after = (await client.get("/agency/")).text
    assert "خدمات الأحوال" in after and "طلبات عالقة" in after
    assert len([c for c in cards(after) if 'data-other="1"' not in c]) <= MAX_GROUPS


async def test_a_renamed_top_level_theme_keeps_its_row_when_the_model_names_it_after_another_theme(
        db: AsyncSession) -> None:
    """The model keys a group by its smallest theme id; when that theme leaves, the row holding most of
    the group's themes carries on (with its staff name) under the new key."""
    agency = await make_agency(db, "registry")
    rows = {str(i): Theme(agency_id=agency.id, scope="feedback", key=str(i), label=f"محور {i}") for i in (1, 2, 3, 4)}
    db.add_all(rows.values())
    await db.flush()

    def model(groups: list[tuple[int, list[int]]]) -> Fitter:
        fitted = Fitter()
        fitted.themes_ = [FittedTheme(id=i, label=f"محور {i}", keywords=[f"كلمة{i}"], representative=[], size=10 * i,
                                      quality=0.5) for _g, ids in groups for i in ids]
        fitted.groups_ = [FittedGroup(id=g, label=f"مجموعة {g}", children=ids, size=sum(10 * i for i in ids))
                          for g, ids in groups]
        return fitted

    await store_groups(db, agency.id, "feedback", model([(1, [1, 2, 3]), (4, [4])]), rows)
    first = rows["2"].group_id
    group = await db.get(ThemeGroup, first)
    group.label, group.renamed = "خدمات السجل", True
    # Theme 1 moved to the other group: the model now names the first group after theme 2.
    await store_groups(db, agency.id, "feedback", model([(2, [2, 3]), (1, [1, 4])]), rows)
    await db.flush()
    kept = await db.get(ThemeGroup, first)
    assert kept.key == "2" and kept.label == "خدمات السجل"
    assert rows["2"].group_id == rows["3"].group_id == first
    assert rows["1"].group_id == rows["4"].group_id != first
    assert (await db.get(ThemeGroup, rows["4"].group_id)).label == "مجموعة 1"


async def test_an_emerging_sub_theme_opens_its_card_and_staff_mute_it(client: httpx.AsyncClient,
                                                                     db: AsyncSession) -> None:
    agency = await demo_agency(db, "passports", feedback=12)
    await themed(db, agency)
    staff = await make_user(db, Role.AGENCY_STAFF, agency=agency)
    await db.commit()
    await sign_in(client, staff.email)
    page = (await client.get("/agency/")).text
    shown = cards(page)
    assert len(shown) == len(THEMES) and 'data-other="1"' in shown[-1] and "أخرى" in shown[-1]
    appointments = shown[0]
    assert "مواعيد الجوازات" in appointments
    assert re.search(r'<details class="sub-themes mt-3" open', appointments)  # opened: a sub-theme is emerging
    hot = await db.scalar(select(Theme).where(Theme.agency_id == agency.id, Theme.key == "1"))
    sub = appointments.split('data-testid="sub-theme"')[1:]
    flagged = next(s for s in sub if f'/agency/themes/{hot.id}"' in s)
    assert 'data-testid="emerging"' in flagged and f"/agency/themes/{hot.id}/mute-emerging" in flagged
    assert "٨" in flagged and "محوران فرعيان" in appointments  # counts in words and Arabic-Indic digits
    assert (await post_form(client, f"/agency/themes/{hot.id}/mute-emerging", {})).status_code == 303
    after = cards((await client.get("/agency/")).text)[0]
    assert 'data-testid="emerging"' not in after and not re.search(r'<details class="sub-themes mt-3" open', after)
    theme_page = (await client.get(f"/agency/themes/{hot.id}")).text  # the theme's page names its parent
    assert re.search(r'data-testid="top-level-theme">المحور الرئيسي: <a href="/agency/?">مواعيد الجوازات</a>', theme_page)


async def test_the_public_board_offers_themes_under_their_top_level_themes(client: httpx.AsyncClient,
                                                                          db: AsyncSession) -> None:
    agency = await demo_agency(db, "passports", feedback=12)
    await themed(db, agency)
    await db.commit()
    ids = dict((await db.execute(select(Theme.key, Theme.id).where(Theme.agency_id == agency.id))).all())
    board = (await client.get("/feedback?agency=passports")).text
    select_html = board.split('id="b-theme"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_html, re.S)
    assert [g for g, _options in groups] == ["مواعيد الجوازات", "أخرى"]  # the lone theme is a plain option
    assert set(re.findall(r'value="(\d+)"', groups[0][1])) == {str(ids["1"]), str(ids["2"])}
    chosen = await client.get(f"/feedback?agency=passports&theme={ids['2']}")
    assert chosen.status_code == 200 and f'value="{ids["2"]}" selected' in chosen.text


def _stats(theme: Theme, size: int, last7: int = 0, prev7: int = 0, rated: int = 0,
           rating: float | None = None) -> ThemeStats:
    return ThemeStats(theme=theme, size=size, last7=last7, prev7=prev7, last30=size, prev30=0,
                      complaint_share=0.5, avg_rating=rating, overdue=1, weekly=[1] * 12, rated=rated)


def test_cards_add_up_their_sub_themes_and_put_other_last() -> None:
    big = ThemeGroup(id=1, label="المواعيد", keywords=["موعد"], other=False, renamed=False)
    alone = ThemeGroup(id=2, label="اسم النموذج", keywords=[], other=False, renamed=False)
    other = ThemeGroup(id=3, label="good service", keywords=[], other=True, renamed=False)
    t = [Theme(id=i, label=f"محور {i}", keywords=[f"كلمة{i}"], pinned=False, other=False) for i in range(6)]
    t[0].group_id = t[1].group_id = big.id
    t[2].group_id = alone.id
    t[3].group_id, t[3].other = other.id, True
    t[4].group_id = None  # stored before top-level themes: stands alone
    t[5].group_id, t[5].pinned = None, True
    stats = [_stats(t[3], 500), _stats(t[0], 40, 5, 2, rated=4, rating=2.0), _stats(t[1], 30, 1, 3, rated=1,
             rating=4.0), _stats(t[2], 60), _stats(t[4], 5), _stats(t[5], 1)]
    out = top_level(stats, {g.id: g for g in (big, alone, other)})
    assert [c.label for c in out] == ["محور 5", "المواعيد", "محور 2", "محور 4", "good service"]
    assert out[-1].other and out[0].pinned
    appointments = out[1]
    assert [c.theme.id for c in appointments.children] == [0, 1]
    assert (appointments.size, appointments.last7, appointments.prev7, appointments.overdue) == (70, 6, 5, 2)
    assert appointments.avg_rating == 2.4 and appointments.complaint_share == 0.5
    assert appointments.weekly == [2] * 12 and appointments.keywords == ["موعد"]
    assert out[2].keywords == ["كلمة2"]  # one sub-theme: the card is that theme (its name and keywords)
