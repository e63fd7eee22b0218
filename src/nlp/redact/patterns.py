"""E-mail, IBAN and vehicle-plate patterns, matched on the folded view."""

from __future__ import annotations

import re

# Any script in the local part and the domain; "[at]"/"(at)" and "[dot]" spellings too.
_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w.%+'-]{1,64}(?:@|[ \t]?[\[(](?:at|@)[\])][ \t]?)"
    r"(?:[^\W_][\w-]{0,62}+(?<!-)(?:\.|[ \t]?[\[(]dot[\])][ \t]?))+"
    r"(?:xn--[a-z0-9-]{1,59}|[^\W\d_]{2,24})(?![\w-])",
    re.I,
)
# "name at gmail dot com": only with a spelled-out "dot" before a common top-level domain.
_EMAIL_WORDS = re.compile(
    r"(?<![\w.])[\w.%+-]{1,64}[ \t]+at[ \t]+[\w-]{1,63}(?:[ \t]+dot[ \t]+[\w-]{1,63})*"
    r"[ \t]+dot[ \t]+(?:com|net|org|edu|gov|info|sa|ae|co|io|me)(?![\w-])",
    re.I,
)
# A webmail address with its top-level domain left off ("fahad@gmail").
_EMAIL_PROVIDER = re.compile(
    r"(?<![\w.%+'-])[\w.%+'-]{1,64}@(?:gmail|hotmail|outlook|yahoo|icloud|live|msn|protonmail)(?![\w.-])",
    re.I,
)
_EMAIL_HINT = re.compile(r"@|[\[( ]at[\]) ]", re.I)
# Saudi IBAN: SA, two check digits, 20 alphanumerics; printed in groups of four. Other countries' IBANs
# (residents paste their home bank's) only when the ISO 13616 check digits are right.
_IBAN = re.compile(r"(?<![A-Za-z0-9])SA[ \-._]{0,3}\d{2}(?:[ \-._]{0,3}[0-9A-Z]){20}(?![0-9A-Za-z])", re.I)
_IBAN_COUNTRIES = frozenset(
    "AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL GR GT HR HU IE "
    "IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM PK PL PS PT QA RO RS RU SC SD "
    "SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE".split()
)
_IBAN_ANY = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[ \-]?\d{2}(?:[ \-]?[0-9A-Z]){11,30}(?![0-9A-Za-z])")


def _iban_ok(text: str) -> bool:
    code = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    code = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in code)) % 97 == 1


# Saudi plates: three of the seventeen plate letters written apart, and up to four digits, either order.
_PLATE_LETTER = "[اأإآبحدرسصطعقكلمنهوىي]"
_PLATE_LETTERS = rf"{_PLATE_LETTER}[ -]{_PLATE_LETTER}[ -]{_PLATE_LETTER}"
_PLATE = re.compile(
    rf"(?<!\w){_PLATE_LETTERS}[ -]{{1,3}}\d{{1,4}}(?!\d)|(?<!\d)\d{{1,4}}[ -]{{1,3}}{_PLATE_LETTERS}(?!\w)"
)
# Latin-letter plates look like currency amounts ("USD 1500"), so only after the word "plate"/"لوحة";
# after it, any three Arabic letters written apart too ("لوحة أ ب ج ١٢٣٤": people type ج for the plate's J).
_PLATE_LATIN = re.compile(
    r"(?:لوح[ةهت]|plate)\D{0,20}?(?<![A-Za-z\u0621-\u064a])"
    r"([A-Z](?:[ -]?[A-Z]){2}[ -]{0,3}\d{1,4}|[\u0621-\u064a](?:[ -][\u0621-\u064a]){2}[ -]{1,3}\d{1,4})(?!\d)",
    re.I,
)
_HAS_DIGIT = re.compile(r"[0-9]")
