"""Arabic first: every user-facing string has an Arabic translation, the catalogs agree with the code, and
pages come in Arabic, right to left, unless the visitor chooses English."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from babel import Locale
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_agency
from voice import i18n

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "voice" / "locale"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _msgids() -> set[str]:
    found: set[str] = set()
    method_map = [("src/voice/**.py", "python"), ("src/ideas/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def test_every_string_in_the_code_has_an_arabic_translation() -> None:
    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        value = message.string
        translated[key] = all(value) if isinstance(value, tuple) else bool(value)
    missing = sorted(m for m in _msgids() if not translated.get(m))
    assert not missing, f"{len(missing)} strings without Arabic: {missing[:20]}"


def test_arabic_catalog_has_six_plural_forms() -> None:
    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    assert catalog.num_plurals == 6
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(message.string) == 6 and all(message.string), message.id


def test_placeholders_survive_translation() -> None:
    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        wanted = set(re.findall(r"%\((\w+)\)s", message.id))
        assert set(re.findall(r"%\((\w+)\)s", message.string)) == wanted, message.id


async def test_home_is_arabic_and_right_to_left_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "bootstrap.rtl.min.css" in response.text
    assert "صوت" in response.text
    assert response.headers["content-language"] == "ar"


async def test_lang_query_switches_to_english_and_cookie_remembers(client: httpx.AsyncClient) -> None:
    response = await client.get("/?lang=en")
    assert '<html lang="en" dir="ltr">' in response.text
    assert "bootstrap.min.css" in response.text and "bootstrap.rtl" not in response.text
    assert client.cookies.get("lang") == "en"
    again = await client.get("/signin")
    assert '<html lang="en" dir="ltr">' in again.text
    back = await client.get("/?lang=ar")
    assert 'dir="rtl"' in back.text and client.cookies.get("lang") == "ar"


async def test_unknown_language_falls_back_to_arabic(client: httpx.AsyncClient) -> None:
    response = await client.get("/?lang=xx")
    assert '<html lang="ar" dir="rtl">' in response.text


async def test_numbers_use_arabic_indic_digits_in_arabic(client: httpx.AsyncClient, db: AsyncSession) -> None:
    for _ in range(3):
        await make_agency(db)  # two e-services each
    arabic = await client.get("/")
    assert "٣ جهات حكومية و٦ خدمات إلكترونية" in arabic.text  # 3–10 take the plural
    english = await client.get("/?lang=en")
    assert "3 agencies and 6 e-services" in english.text


# Arabic has six plural forms, in CLDR's order: zero, one, two, few (3-10), many (11-99), other (100+).
CLDR_FORMS = ("zero", "one", "two", "few", "many", "other")
PEOPLE = ("Feedback from %(num)s person led to this.", "Feedback from %(num)s people led to this.")


def test_arabic_plural_forms_follow_cldr() -> None:
    rule = Locale("ar").plural_form
    catalog = i18n.translations("ar")
    wrong = {n: (catalog.plural(n), CLDR_FORMS.index(rule(n))) for n in range(0, 300)
             if catalog.plural(n) != CLDR_FORMS.index(rule(n))}
    assert not wrong, f"n: (form chosen, form CLDR wants) {dict(list(wrong.items())[:8])}"
    with i18n.use_locale("ar"):  # the sentences a reader sees, across the categories
        said = {n: i18n.ngettext(*PEOPLE, n) for n in (0, 1, 2, 3, 10, 11, 15, 99, 100, 101, 102, 1000)}
    assert "١٥ شخصًا" in said[15] and "١٠ أشخاص" in said[10] and "١٠٠ شخص" in said[100], said


async def test_counts_in_arabic_plural_sentences_are_arabic_indic(app: object) -> None:
    engine = app.template_engine.engine  # type: ignore[attr-defined]
    for source in ("{{ ngettext(singular, plural, people, num=people|num) }}",
                   "{{ ngettext(singular, plural, people) }}"):  # no num given: the count in the locale's digits
        with i18n.use_locale("ar"):
            assert "١٢" in engine.from_string(source).render(singular=PEOPLE[0], plural=PEOPLE[1], people=12), source
