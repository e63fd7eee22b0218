"""Finds and redacts PII for public display: Saudi IDs/iqamas, phones, e-mails, IBANs, cards, plates, names.

Fold, then match. Every text is first folded into a *view* (``fold(text)``): NFKC (fullwidth and
mathematical letters and digits, presentation forms), every Unicode decimal digit to ASCII (Arabic-Indic,
Persian, Devanagari, fullwidth, mathematical…), invisible characters deleted (zero-width spaces and
joiners, word joiner, BOM, soft hyphen, bidi marks, tags, variation selectors, Hangul fillers, tatweel,
diacritics), every dash to "-", every space to " ", Arabic comma and decimal/thousands signs to "," and
".". Matching runs on the view; an index map sends each view position back to the original text, so
``find_pii`` reports offsets into the ORIGINAL text and ``redact`` replaces exactly those spans (invisible
characters inside a number go with it).

Numbers. The digits of a view are read as runs of groups joined by separators (up to 8 spaces, one or
two of - _ . / , ( ) | ' \\ : * ~ + #, or a line break). A run, or a whole-group part of it, is PII when
its digits are ID-, phone- or card-shaped: ten digits starting with 1 or 2 (national ID / iqama; any ten
digits right after "هويتي", "رقم الحدود", "ID"…), 05xxxxxxxx, 5xxxxxxxx, 01[1-7]xxxxxxx, 966(0)5xxxxxxxx,
any country's number after + or 00, 13–19 digits passing Luhn (card). Not PII: dates (2024/05/01,
١٤٤٥/٠٩/١٢, 01-05-2024, 1/5/24) and times (10:30, 10:30:45), amounts grouped by thousands with commas or
dots (1,234,567,890 — unless an ID/phone word such as "هويتي" comes just before), a number next to a
currency word ("1500000000 ريال"), and a part cut out of a longer number at a glued separator
("1023456789/5", "1023456789.50"). IBANs (SA + 22; other countries' when their check digits are right),
Saudi plates (and any three letters + digits after "لوحة"/"plate"), and e-mails in any script
("محمد@example.com", "name@مثال.السعودية", "name [at] x.com", "name at gmail dot com") are matched on the
view.

Names. After a cue the writer uses to introduce a person — strong ("اسمي", "المدعو", "my name is", at
the start of a sentence or after a greeting; a form line "الاسم: …"): the next one to four name words;
weak ("أنا", "معك", "المواطن", "ابني", "زوجتي", "السيد", "الموظف", "I am", or a strong cue inside a
sentence, as in "أغير اسمي"): only a listed given or family name — the name words are redacted,
stopping at punctuation, a digit, a function word or a word that is not a name part. Without a cue, a
chain of listed names in a person-like shape is redacted: given + given/family ("فهد عبدالله القحطاني"),
"بن/بنت" chains, "آل" + family, an ال…ي nisba or ال + given ("الصالح") after a given name, and a
kunya ("أبو فهد", "أم محمد"). Given names that are also ordinary words (أمل، سعيد، متعب، عارف…)
count only after a strong cue or with another name part after them; a name right after a place word
("مستشفى الملك فهد", "شارع عبدالله بن عمر") is not redacted. The lists live in
``nlp/resources/names_*.txt`` and ``pii_cues_*.txt``.

Placeholders. ``redact(text)`` writes typed Arabic placeholders ("[هاتف]", "[اسم]"), the platform's
default language, so stored public texts keep one form (and texts stored before keep theirs). A page in
another language shows them in its language with ``localize_placeholders(public_text, locale)``, which
rewrites every known placeholder of any locale into that locale ("[هاتف]" → "[phone]");
``redact(text, locale="en")`` writes them in English directly (an export or a mail meant for one
audience). ``PLACEHOLDERS_BY_LOCALE[locale][kind]`` is the table; ``PLACEHOLDERS`` is the Arabic one.

Search. ``fold(text)`` is the view used for matching. Public search must index ``fold(redacted_text)``
and fold queries the same way: a value that was redacted in any written form is then absent from the
index in every form.

Layout. ``folding`` (the view and its index map), ``lexicon`` (name lists and cue words), ``numbers`` (digit
runs), ``patterns`` (e-mails, IBANs, plates), ``names`` (names after cues and name chains),
``placeholders`` (placeholder tables, ``localize_placeholders``); this module merges their candidates.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from nlp.redact.folding import _fold_map, fold
from nlp.redact.names import _name_candidates
from nlp.redact.numbers import _number_candidates
from nlp.redact.patterns import (
    _EMAIL,
    _EMAIL_HINT,
    _EMAIL_PROVIDER,
    _EMAIL_WORDS,
    _HAS_DIGIT,
    _IBAN,
    _IBAN_ANY,
    _IBAN_COUNTRIES,
    _PLATE,
    _PLATE_LATIN,
    _iban_ok,
)
from nlp.redact.placeholders import PLACEHOLDERS, PLACEHOLDERS_BY_LOCALE, localize_placeholders

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "PLACEHOLDERS_BY_LOCALE",
    "PiiMatch",
    "find_pii",
    "fold",
    "localize_placeholders",
    "redact",
]

# Where matches overlap the longest wins (an IBAN holds an ID-like run, a spaced ID can hold a 9-digit
# phone-like run); between equally long matches, the earlier kind here. Names come last: a number or an
# e-mail is never cut by a name.
KINDS = ("email", "iban", "card", "phone", "national_id", "plate", "name")


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of PII: its kind and its [start, end) offsets in the ORIGINAL text."""

    kind: str
    start: int
    end: int


_RANK = {kind: i for i, kind in enumerate(KINDS)}


def _candidates(view: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    if _EMAIL_HINT.search(view):
        found += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(view)]
        found += [(m.start(), m.end(), "email") for m in _EMAIL_WORDS.finditer(view)]
        found += [(m.start(), m.end(), "email") for m in _EMAIL_PROVIDER.finditer(view)]
    if _HAS_DIGIT.search(view):
        found += [(m.start(), m.end(), "iban") for m in _IBAN.finditer(view)]
        found += [
            (m.start(), m.end(), "iban")
            for m in _IBAN_ANY.finditer(view)
            if m.group()[:2] in _IBAN_COUNTRIES and _iban_ok(m.group())
        ]
        _number_candidates(view, found)
        found += [(m.start(), m.end(), "plate") for m in _PLATE.finditer(view)]
        found += [(m.start(1), m.end(1), "plate") for m in _PLATE_LATIN.finditer(view)]
    _name_candidates(view, found)
    return found


def find_pii(text: str) -> list[PiiMatch]:
    """All PII in a text, sorted by position, never overlapping; offsets index the original string."""
    if not text:
        return []
    view, pos = _fold_map(text)
    found = _candidates(view)
    if not found:
        return []
    chosen: list[tuple[int, int, str]] = []  # sorted by start, never overlapping
    for cand in sorted(found, key=lambda c: (c[0] - c[1], _RANK[c[2]], c[0])):
        at = bisect.bisect_left(chosen, cand)
        if (at == 0 or chosen[at - 1][1] <= cand[0]) and (at == len(chosen) or cand[1] <= chosen[at][0]):
            chosen.insert(at, cand)
    if pos is None:
        return [PiiMatch(kind, s, e) for s, e, kind in chosen]
    return [PiiMatch(kind, pos[s], pos[e - 1] + 1) for s, e, kind in chosen]


def redact(text: str, locale: str = "ar") -> str:
    """A copy of the text with each piece of PII replaced by its typed placeholder in ``locale``."""
    matches = find_pii(text)
    if not matches:
        return text
    table = PLACEHOLDERS_BY_LOCALE.get(locale, PLACEHOLDERS)
    parts, pos = [], 0
    for m in matches:
        parts += [text[pos : m.start], table[m.kind]]
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)
