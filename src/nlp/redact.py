"""PII detection and redaction for public display: Saudi IDs/iqamas, phones, e-mails, IBANs, cards, plates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.normalize import normalize_digits

__all__ = ["PLACEHOLDERS", "PiiMatch", "find_pii", "redact"]

# Typed placeholders keep the sentence readable ("اتصلوا على [هاتف]") and tell staff what was removed.
PLACEHOLDERS = {
    "email": "[بريد إلكتروني]",
    "iban": "[آيبان]",
    "card": "[رقم بطاقة]",
    "phone": "[هاتف]",
    "national_id": "[رقم هوية]",
    "plate": "[لوحة مركبة]",
}


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of PII: its kind and its [start, end) offsets in the ORIGINAL text."""

    kind: str
    start: int
    end: int


# Between the digits of one number people type spaces, dashes, no-break/thin spaces, and phones paste
# invisible bidi marks. At most three such characters, so "050 - 123" still counts as one number.
_GAP = r"[ \u00a0\u2009\u202f\u200e\u200f\u061c-]{0,3}"
_PHONE_GAP = r"[ \u00a0\u2009\u202f\u200e\u200f\u061c.()-]{0,3}"


def _digits(n: int, gap: str = _GAP) -> str:
    return f"(?:{gap}\\d){{{n}}}"


_EMAIL = re.compile(
    r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
)
# Saudi IBAN: SA, two check digits, 20 alphanumerics; printed in groups of four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])SA[ -]?\d{2}(?:[ -]?[0-9A-Z]){20}(?![0-9A-Za-z])", re.I)
# Payment cards: 13-19 digits, confirmed by the Luhn checksum below so long reference numbers pass.
_CARD = re.compile(r"(?<!\d)[3-6]" + r"(?:[ -]?\d){12,18}(?!\d)")
# Saudi numbers have 9 digits after 966 (5xxxxxxxx mobile, 1x xxxxxxx landline); older landlines 8.
_PHONE = re.compile(
    "|".join(
        [
            r"(?<![\d+])(?:\+|00)"
            + _PHONE_GAP
            + r"966"
            + _PHONE_GAP
            + r"(?:\(?0\)?"
            + _PHONE_GAP
            + r")?[1-9]"
            + _digits(7, _PHONE_GAP)
            + r"(?:"
            + _PHONE_GAP
            + r"\d)?(?!\d)",
            r"(?<!\d)966" + _PHONE_GAP + r"5" + _digits(8, _PHONE_GAP) + r"(?!\d)",
            r"(?<!\d)0" + _PHONE_GAP + r"5" + _digits(8, _PHONE_GAP) + r"(?!\d)",
            r"(?<!\d)0" + _PHONE_GAP + r"1[1-7]" + _digits(7, _PHONE_GAP) + r"(?!\d)",
            r"(?<![\d.,/])5\d" + _digits(7, _PHONE_GAP) + r"(?![\d/])",
        ]
    )
)
# National ID (starts with 1) and iqama (starts with 2): exactly ten digits, any grouping. Not glued to
# other digits, and not part of a date or amount written with '/', '.' or ','.
_NATIONAL_ID = re.compile(r"(?<![\d.,/])[12]" + _digits(9) + r"(?![\d/]|[.,]\d)")
# Saudi plates: three of the seventeen plate letters written apart, and up to four digits, either order.
_PLATE_LETTER = "[اأإآبحدرسصطعقكلمنهوىي]"
_PLATE_LETTERS = rf"{_PLATE_LETTER}[ -]{_PLATE_LETTER}[ -]{_PLATE_LETTER}"
_PLATE = re.compile(
    rf"(?<!\w){_PLATE_LETTERS}[ -]{{1,3}}\d{{1,4}}(?!\d)|(?<!\d)\d{{1,4}}[ -]{{1,3}}{_PLATE_LETTERS}(?!\w)"
)
# Latin-letter plates look like currency amounts ("USD 1500"), so only after the word "plate"/"لوحة".
_PLATE_LATIN = re.compile(
    r"(?:لوح[ةه]|plate)\D{0,20}?(?<![A-Za-z])([A-Z](?:[ -]?[A-Z]){2}[ -]{0,3}\d{1,4})(?!\d)", re.I
)

# Where matches overlap the longest wins (an IBAN holds an ID-like run, a spaced ID can hold a 9-digit
# phone-like run); between equally long matches, the earlier kind here.
_ORDER = ("email", "iban", "card", "phone", "national_id", "plate")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _candidates(view: str) -> list[PiiMatch]:
    found = [PiiMatch("email", m.start(), m.end()) for m in _EMAIL.finditer(view)]
    found += [PiiMatch("iban", m.start(), m.end()) for m in _IBAN.finditer(view)]
    for m in _CARD.finditer(view):
        digits = re.sub(r"\D", "", m.group())
        if _luhn_ok(digits):
            found.append(PiiMatch("card", m.start(), m.end()))
    found += [PiiMatch("phone", m.start(), m.end()) for m in _PHONE.finditer(view)]
    found += [PiiMatch("national_id", m.start(), m.end()) for m in _NATIONAL_ID.finditer(view)]
    found += [PiiMatch("plate", m.start(), m.end()) for m in _PLATE.finditer(view)]
    found += [PiiMatch("plate", m.start(1), m.end(1)) for m in _PLATE_LATIN.finditer(view)]
    return found


def find_pii(text: str) -> list[PiiMatch]:
    """All PII in a text, sorted by position, never overlapping; offsets index the original string."""
    if not text:
        return []
    # Arabic-Indic/Persian digits map one-to-one onto ASCII, so offsets in the view are offsets in text.
    view = normalize_digits(text)
    rank = {kind: i for i, kind in enumerate(_ORDER)}
    chosen: list[PiiMatch] = []
    taken = bytearray(len(text))
    for cand in sorted(_candidates(view), key=lambda c: (-(c.end - c.start), rank[c.kind], c.start)):
        if not any(taken[cand.start : cand.end]):
            chosen.append(cand)
            taken[cand.start : cand.end] = b"\x01" * (cand.end - cand.start)
    return sorted(chosen, key=lambda c: c.start)


def redact(text: str) -> str:
    """A copy of the text with each piece of PII replaced by its typed placeholder."""
    matches = find_pii(text)
    if not matches:
        return text
    parts, pos = [], 0
    for m in matches:
        parts += [text[pos : m.start], PLACEHOLDERS[m.kind]]
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)
