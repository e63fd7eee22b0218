"""Reading rendered pages as an Arabic proof-reader would: a number written in digits next to a counted
noun in the wrong form, and digits of the wrong set in the interface's text.

Arabic counting (what the catalogs must write, and what this scan checks):
  1 and 2: spelled out, never a digit before the noun ("شخص واحد", "ملاحظتان"; "١ شخصًا" is wrong);
  3–10 (and 103–110 …): plural ("٣ أيام", "١٠ جهات");
  11–99: singular, accusative with tanween ("١٥ شخصًا", "١١ ملاحظةً");
  100, 101, 102 …: singular, genitive ("١٠٠ ملاحظة").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# noun: (singular, plural, singular accusative with tanween)
NOUNS = {
    "note": ("ملاحظة", "ملاحظات", "ملاحظةً"),
    "person": ("شخص", "أشخاص", "شخصًا"),
    "agency": ("جهة", "جهات", "جهةً"),
    "service": ("خدمة", "خدمات", "خدمةً"),
    "day": ("يوم", "أيام", "يومًا"),
    "letter": ("حرف", "أحرف", "حرفًا"),
    "theme": ("محور", "محاور", "محورًا"),
    "entry": ("مشاركة", "مشاركات", "مشاركةً"),
    "record": ("سجل", "سجلات", "سجلًا"),
    "vote": ("صوت", "أصوات", "صوتًا"),
    "account": ("حساب", "حسابات", "حسابًا"),
    "code": ("رمز", "رموز", "رمزًا"),
    "second": ("ثانية", "ثوانٍ", "ثانيةً"),
    "criterion": ("معيار", "معايير", "معيارًا"),
    "judge": ("محكّم", "محكّمين", "محكّمًا"),
    "value": ("قيمة", "قيم", "قيمةً"),
    "idea": ("فكرة", "أفكار", "فكرةً"),
    "comment": ("تعليق", "تعليقات", "تعليقًا"),
    "hour": ("ساعة", "ساعات", "ساعةً"),
    "week": ("أسبوع", "أسابيع", "أسبوعًا"),
    "month": ("شهر", "أشهر", "شهرًا"),
    "article": ("مادة", "مواد", "مادةً"),
    "view": ("رأي", "آراء", "رأيًا"),
    "reply": ("رد", "ردود", "ردًا"),
    "participant": ("مشارك", "مشاركين", "مشاركًا"),
    "follower": ("متابع", "متابعين", "متابعًا"),
    "improvement": ("تحسين", "تحسينات", "تحسينًا"),
    "file": ("ملف", "ملفات", "ملفًا"),
}
_FORMS: dict[str, tuple[str, str]] = {}
for _key, (_sg, _pl, _acc) in NOUNS.items():
    _FORMS[_sg], _FORMS[_pl], _FORMS[_acc] = (_key, "sg"), (_key, "pl"), (_key, "acc")
    _FORMS[_acc.replace("ً", "")] = _FORMS.get(_acc.replace("ً", ""), (_key, "sg"))

_ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
_NUMBER_NOUN = re.compile(r"(?<![\w٫٬])([٠-٩][٠-٩٬]*)(?![٫٠-٩])[ \u00a0]+([\u0600-\u06FF\u064B-\u0652]+)")


def _value(digits: str) -> int:
    return int(digits.replace("٬", "").translate(str.maketrans(_ARABIC_INDIC, "0123456789")))


def expected_form(n: int) -> str | None:
    """What a counted noun after the digits of n must be: pl, acc or sg (None: n is spelled out)."""
    if n in (1, 2):
        return None
    rest = n % 100
    if 3 <= rest <= 10:
        return "pl"
    if 11 <= rest <= 99:
        return "acc"
    return "sg"


def number_noun_errors(text: str) -> list[str]:
    found = []
    for match in _NUMBER_NOUN.finditer(text):
        word = match.group(2)
        if word not in _FORMS:
            continue
        n, (_noun, form) = _value(match.group(1)), _FORMS[word]
        want = expected_form(n)
        if n == 0 or want is None or want != form:
            found.append(match.group(0))
    return found


# Brand names, formats and addresses that keep their Latin digits inside Arabic text.
ALLOWED_LATIN_DIGITS = re.compile(
    r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b|G2[CBG]|\bR-\d+|Open311|open311/v2\S*|ISO 8601|UTF-8|2025-01-31T09:00:00\+03:00|OpenID|e5|\bv\d\b", re.IGNORECASE)


class _VisibleText(HTMLParser):
    """The interface's own text: what is shown and what assistive technology reads (aria-label, title,
    placeholder, alt); not scripts, styles, codes (dir="ltr"), user content (dir="auto", <bdi>) or form values."""

    SKIP_TAGS = {"script", "style", "code", "bdi", "pre", "textarea", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []  # per open element: is it skipped?

    def _skipping(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skip = (tag in self.SKIP_TAGS or a.get("dir") in ("ltr", "auto") or ("translate" in a and a["translate"] == "no")
                or (tag != "html" and "lang" in a))  # text marked as another language (the language switch)
        if not self._skipping() and not skip:
            for name in ("aria-label", "title", "placeholder", "alt"):
                if a.get(name):
                    self.parts.append(a[name] or "")
        if tag not in self.VOID:
            self._stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(p for p in parser.parts if p.strip())


def wrong_digits(text: str, lang: str) -> list[str]:
    """Digits of the other set in the interface's text: Latin digits in Arabic, Arabic-Indic in English."""
    if lang == "ar":
        cleaned = ALLOWED_LATIN_DIGITS.sub("", text)
        return [line.strip() for line in cleaned.splitlines() if re.search(r"[0-9]", line)]
    return [line.strip() for line in text.splitlines() if re.search(r"[٠-٩]", line)]


# Names of standards, formats and products, addresses and links: they keep their Latin letters in Arabic.
ALLOWED_LATIN_WORDS = re.compile(
    r"\S+@\S+|https?://\S+|/\S*|(?<![A-Za-z])(?:Open311|OpenID|OpenAPI|CSV|XLSX|PDF|API|JSON|HTML|SMS|ISO|UTF|e5|PNG|JPE?G|WebP|"
    r"HEIC|OTP|TOTP|SSO|URL|Excel|Hijri|FB|ID|QR|Voice|Enter|Authorization: Bearer TOKEN)(?![A-Za-z])"
    r"|(?<![A-Za-z])[a-z0-9]+(?:-[a-z0-9]+)+(?![A-Za-z])", re.IGNORECASE)  # the product's name; key names; example slugs


def untranslated(text: str, lang: str) -> list[str]:
    """Interface text in the other language: Latin words on an Arabic page, Arabic letters on an English one."""
    if lang == "ar":
        cleaned = ALLOWED_LATIN_WORDS.sub("", ALLOWED_LATIN_DIGITS.sub("", text))
        return [line.strip() for line in cleaned.splitlines() if re.search(r"[A-Za-z]{2,}", line)]
    return [line.strip() for line in text.splitlines() if re.search(r"[\u0600-\u06FF]", line)]


def page_problems(html: str, lang: str) -> list[str]:
    text = visible_text(html)
    problems = [f"digits: {line[:120]}" for line in wrong_digits(text, lang)]
    if lang == "ar":
        problems += [f"agreement: {pair}" for pair in number_noun_errors(text)]
    return problems
