"""Languages: the request's locale, gettext catalogs (Babel .po files) and locale-aware formatting."""

from __future__ import annotations

import contextvars
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from hijridate import Gregorian

from voice.settings import PACKAGE_ROOT

SUPPORTED = ("ar", "en")
DEFAULT = "ar"
RTL = {"ar"}
# Babel's "ar_SA" formats numbers with Arabic-Indic digits (٠١٢٣), which is what Saudi readers expect.
FORMAT_LOCALE = {"ar": "ar_SA", "en": "en_GB"}

# Times are stored in UTC and shown in Saudi time, which has no daylight saving.
RIYADH = ZoneInfo("Asia/Riyadh")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("voice_locale", default=DEFAULT)


@cache
def translations(lang: str) -> Translations:
    """Load a catalog straight from its .po file: no compiled .mo files to keep in step.

    The plural form is chosen by CLDR's rule for the language, in CLDR's order of categories (Arabic:
    zero, one, two, few 3-10, many 11-99, other 100+), whatever the catalog's header says: Babel's
    built-in Arabic formula swaps "many" and "other", and a header lost by a tool would bring it back.
    """
    path = PACKAGE_ROOT / "locale" / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return Translations()
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    loaded = Translations(buf)
    loaded.plural = plural_index(lang)
    return loaded


_CLDR_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


def plural_index(lang: str) -> Any:
    """n → the index of its plural form in the catalogs: its CLDR category's place among the categories
    the language has, in CLDR's order."""
    rule = Locale.parse(lang).plural_form
    present = [c for c in _CLDR_CATEGORIES if c in rule.tags or c == "other"]
    return lambda n: present.index(rule(n))


def normalize_lang(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()[:2]
    return value if value in SUPPORTED else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language in an Accept-Language header (quality order respected)."""
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, lang))
    for _w, _i, lang in sorted(ranked):
        if code := normalize_lang(lang):
            return code
    return None


def get_locale() -> str:
    return _current.get()


def set_locale(lang: str) -> contextvars.Token[str]:
    return _current.set(lang if lang in SUPPORTED else DEFAULT)


@contextmanager
def use_locale(lang: str) -> Iterator[None]:
    token = set_locale(lang)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **variables: Any) -> str:
    text = translations(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The form for ``n`` (Arabic has six), with ``%(num)s`` written in the locale's digits."""
    text = translations(get_locale()).ungettext(singular, plural, n)
    variables.setdefault("num", fmt_number(n))
    return text % variables


_ = gettext


def direction(lang: str | None = None) -> str:
    return "rtl" if (lang or get_locale()) in RTL else "ltr"


# Babel picks Arabic separators (٬ ٫ ٪) for ar_SA but keeps Latin digits; we finish the job.
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def localize_digits(text: str) -> str:
    return text.translate(_ARABIC_INDIC) if get_locale() == "ar" else text


# What people type: Arabic-Indic (٠-٩) or Eastern Arabic-Indic (Persian/Urdu keyboards, ۰-۹) digits.
_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def fold_digits(text: str) -> str:
    """Input in any of the digit sets people type, as ASCII digits: "٧" in a score field is 7."""
    return text.translate(_TO_ASCII)


def parse_int(value: Any, lo: int, hi: int) -> int | None:
    """A whole number from lo to hi typed in either digit set (spaces around it allowed), or None."""
    raw = fold_digits(str(value if value is not None else "")).strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    number = int(raw)
    return number if lo <= number <= hi else None


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    loc = FORMAT_LOCALE[get_locale()]
    return localize_digits(format_decimal(value, format=fmt, locale=loc, numbering_system="default"))


def fmt_percent(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    loc = FORMAT_LOCALE[get_locale()]
    text = localize_digits(format_percent(value, format=fmt, locale=loc, numbering_system="default"))
    return text.replace("%", "٪") if get_locale() == "ar" else text  # the Arabic percent sign


def fmt_date(value: date | datetime | None, style: str = "medium") -> str:
    """The one way a date is shown to people: Gregorian with the Umm al-Qura Hijri date beside it.

    "medium" (prose): "٣ فبراير ٢٠٢٦ (١٥ شعبان ١٤٤٧ هـ)" / "3 Feb 2026 (15 Shaban 1447 AH)".
    "short" (lists, with the time): "٣‏/٢‏/٢٠٢٦ (١٥‏/٨‏/١٤٤٧ هـ)، ١١:٠٥ ص". Times are Riyadh time.
    """
    if value is None:
        return "—"
    loc = FORMAT_LOCALE[get_locale()]
    clock = None
    if isinstance(value, datetime):
        local = value.astimezone(RIYADH)
        if style == "short":
            clock = format_time(local, format="short", locale=loc)
        value = local.date()
    if style == "short":
        text = format_date(value, format="short", locale=loc)
    else:  # Arabic's "medium" is all digits; the month's name reads better in prose
        text = format_date(value, format="long" if get_locale() == "ar" else "medium", locale=loc)
    hijri = fmt_hijri(value, numeric=style == "short")
    if hijri:
        text += f" ({hijri})"
    if clock:
        text += ("، " if get_locale() == "ar" else ", ") + clock
    return localize_digits(text)


def fmt_month(value: date) -> tuple[str, str]:
    """(month name, year) for chart axes: ("فبراير", "٢٠٢٦") / ("Feb", "2026")."""
    loc = FORMAT_LOCALE[get_locale()]
    return format_date(value, format="LLL", locale=loc), localize_digits(str(value.year))


def fmt_day_month(value: date) -> str:
    """Day and month for a week's axis label: "٣ فبراير" / "3 Feb"."""
    return localize_digits(format_date(value, format="d MMM", locale=FORMAT_LOCALE[get_locale()]))


_HIJRI_SUFFIX = {"ar": "هـ", "en": "AH"}


def fmt_hijri(value: date, numeric: bool = False) -> str:
    """The Umm al-Qura date (the Saudi official calendar) of a Gregorian day; "" outside its tables."""
    try:
        h = Gregorian(value.year, value.month, value.day).to_hijri()
    except (OverflowError, ValueError):
        return ""
    lang = get_locale()
    if numeric:
        sep = "\u200f/" if lang == "ar" else "/"
        body = f"{h.day}{sep}{h.month}{sep}{h.year}"
    else:
        body = f"{h.day} {h.month_name('ar' if lang == 'ar' else 'en')} {h.year}"
    return localize_digits(f"{body} {_HIJRI_SUFFIX[lang]}")


def language_name(lang: str) -> str:
    return Locale.parse(lang).get_display_name(lang) or lang
