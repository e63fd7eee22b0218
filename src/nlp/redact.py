"""PII detection and redaction for public display: Saudi IDs/iqamas, phones, e-mails, IBANs, cards, plates
and the names people introduce.

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
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

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

# Typed placeholders keep the sentence readable ("اتصلوا على [هاتف]") and tell staff what was removed.
PLACEHOLDERS_BY_LOCALE: dict[str, dict[str, str]] = {
    "ar": {
        "email": "[بريد إلكتروني]",
        "iban": "[آيبان]",
        "card": "[رقم بطاقة]",
        "phone": "[هاتف]",
        "national_id": "[رقم هوية]",
        "plate": "[لوحة مركبة]",
        "name": "[اسم]",
    },
    "en": {
        "email": "[email]",
        "iban": "[IBAN]",
        "card": "[card number]",
        "phone": "[phone]",
        "national_id": "[ID number]",
        "plate": "[plate number]",
        "name": "[name]",
    },
}
PLACEHOLDERS = PLACEHOLDERS_BY_LOCALE["ar"]


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of PII: its kind and its [start, end) offsets in the ORIGINAL text."""

    kind: str
    start: int
    end: int


# ------------------------------------------------------------------------------------------- folding
# ASCII, the plain Arabic letters and the Arabic question mark fold to themselves; only other characters
# need a look.
_NEEDS_FOLD = re.compile("[^\x00-\x7f\u061f\u0621-\u063a\u0641-\u064a]")
# Punctuation NFKC leaves alone but people use between digits (Arabic decimal/thousands signs, Arabic
# comma, middle dots), and tatweel, which is only elongation.
_PUNCT_FOLD = {
    "\u066b": ".", "\u066c": ",", "\u060c": ",", "\u06d4": ".", "\u3002": ".", "\uff61": ".",
    "\u00b7": ".", "\u2022": ".", "\u2219": ".", "\u22c5": ".", "\u30fb": ".", "\u2212": "-",
    "\u061b": ";", "\u0640": "", "\u0085": "\n",
    # letters and symbols that print as nothing (Hangul fillers, braille blank)
    "\u115f": "", "\u1160": "", "\u3164": "", "\uffa0": "", "\u2800": "",
}  # fmt: skip
_fold_cache: dict[str, str] = {}
_FOLD_CACHE_MAX = 20_000  # distinct non-plain characters remembered; texts cannot grow it without bound


def _fold_char(ch: str) -> str:
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in _PUNCT_FOLD:
            out.append(_PUNCT_FOLD[c])
            continue
        cat = unicodedata.category(c)
        if cat in ("Cf", "Mn", "Me", "Cn", "Co") or (cat == "Cc" and c not in "\t\n\r"):
            continue  # invisible: zero-width, joiners, bidi marks, BOM, soft hyphen, tags, diacritics
        if cat == "Nd":
            out.append(chr(48 + unicodedata.decimal(c)))
        elif cat == "Pd":
            out.append("-")
        elif cat == "Zs":
            out.append(" ")
        elif cat in ("Zl", "Zp"):
            out.append("\n")
        else:
            out.append(c)
    folded = "".join(out)
    if len(_fold_cache) < _FOLD_CACHE_MAX:
        _fold_cache[ch] = folded
    return folded


def _folded(ch: str) -> str:
    folded = _fold_cache.get(ch)
    return _fold_char(ch) if folded is None else folded


def _fold_match(m: re.Match[str]) -> str:
    return _folded(m.group())


def _fold_map(text: str) -> tuple[str, list[int] | None]:
    """The view and, unless each character folded to exactly one, the original index of each view character."""
    if not _NEEDS_FOLD.search(text):
        return text, None
    view = _NEEDS_FOLD.sub(_fold_match, text)
    if len(view) == len(text) and all(len(_folded(ch)) == 1 for ch in _NEEDS_FOLD.findall(text)):
        return view, None  # Arabic-Indic digits, Arabic comma, no-break spaces: offsets are unchanged
    pos: list[int] = []
    last = 0
    for m in _NEEDS_FOLD.finditer(text):
        i = m.start()
        pos.extend(range(last, i))
        n = len(_folded(text[i]))
        if n == 1:
            pos.append(i)
        elif n:
            pos.extend([i] * n)
        last = i + 1
    pos.extend(range(last, len(text)))
    return view, pos


def fold(text: str) -> str:
    """The matching view of a text: NFKC, ASCII digits, invisibles and diacritics removed, dashes, spaces and
    Arabic separators unified. Index public texts and queries with it so both meet in one form."""
    return _fold_map(text)[0] if text else ""


# ----------------------------------------------------------------------------------------- resources
# Names and cues are compared on a key: the view with hamzated alefs bare, teh marbuta as heh, Persian
# yeh/kaf Arabic, Latin lower-case. Alef maksura stays apart from yeh ("على" is not "علي").
_STRONG, _WEAK, _CHAIN = 2, 1, 0


def _keyed(view: str) -> str:
    """The key form of a view, the same length (str.replace is several times faster than str.translate)."""
    if "\u0130" in view:
        view = view.replace("\u0130", "I")  # the one character whose lower case is two
    view = view.lower().replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه")
    if "ٱ" in view or "ی" in view or "ک" in view:
        view = view.replace("ٱ", "ا").replace("ی", "ي").replace("ک", "ك")
    return view


def _key(text: str) -> str:
    return _keyed(fold(text))


def _sections(name: str) -> dict[str, list[str]]:
    text = resources.files("nlp.resources").joinpath(name).read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            current = out.setdefault(line[3:].strip(), [])
        elif line and not line.startswith("#") and current is not None:
            current.append(line)
    return out


@dataclass(frozen=True)
class _Lexicon:
    given: frozenset[str]
    ambiguous: frozenset[str]
    family: frozenset[str]
    latin_given: frozenset[str]
    cues: dict[str, list[tuple[tuple[str, ...], int]]]  # first word -> (all words, strength), longest first
    place: frozenset[str]
    opener: frozenset[str]
    not_name: frozenset[str]
    adjective: frozenset[str]
    number_cue: re.Pattern[str]
    currency_after: re.Pattern[str]
    currency_before: re.Pattern[str]
    triggers: frozenset[str]  # a text with none of these words has no name to look at


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@cache
def _lexicon() -> _Lexicon:
    names_ar, names_en = _sections("names_ar.txt"), _sections("names_en.txt")
    cues_ar, cues_en = _sections("pii_cues_ar.txt"), _sections("pii_cues_en.txt")
    keys = lambda words: frozenset(_key(w) for w in words)  # noqa: E731
    ambiguous = keys(names_ar["given_ambiguous"])
    given = keys(names_ar["given"]) | ambiguous
    family = keys(names_ar["family"])
    cues: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for strength, section in ((_STRONG, "strong"), (_WEAK, "weak")):
        for lang, table in (("ar", cues_ar), ("en", cues_en)):
            for cue in table[section]:
                words = tuple(_key(cue).split())
                firsts = [words[0]]
                if lang == "ar":  # "واسمي", "فأنا": a conjunction glued to the cue
                    firsts += ["و" + words[0], "ف" + words[0]]
                for first in firsts:
                    cues.setdefault(first, []).append(((first, *words[1:]), strength))
    for entries in cues.values():
        entries.sort(key=lambda e: -len(e[0]))
    number = [_key(w) for w in cues_ar["number"] + cues_en["number"]]
    currency = [_key(w) for w in cues_ar["currency"] + cues_en["currency"]]
    latin_given = keys(names_en["given"])
    return _Lexicon(
        given=given,
        ambiguous=ambiguous,
        family=family,
        latin_given=latin_given,
        cues=cues,
        place=keys(cues_ar["place"] + cues_en["place"]),
        opener=keys(cues_ar["opener"] + cues_en["opener"]),
        not_name=keys(cues_ar["not_name"] + cues_en["not_name"]),
        adjective=keys(cues_ar["adjective"]),
        number_cue=re.compile(rf"(?<![^\W\d_])(?:{_alternation(number)})(?![^\W\d_])"),
        currency_after=re.compile(rf"[ \t]{{0,2}}(?:{_alternation(currency)})(?![^\W\d_])"),
        currency_before=re.compile(rf"(?<![^\W\d_])(?:{_alternation(currency)})[ \t]{{0,2}}$"),
        triggers=given | family | latin_given | frozenset(cues) | {"عبد"} | _KUNYA_WORDS,
    )


# ------------------------------------------------------------------------------------------- numbers
# A run of digit groups: between groups, up to 8 spaces and/or up to two separator characters, or one
# line break.
_SEP_CHARS = r"[-_./,()|'\\:*~+#]"
_CHUNK = re.compile(
    rf"\d+(?:(?:[ \t]{{1,8}}(?:{_SEP_CHARS}[ \t]{{0,3}}){{0,2}}|(?:{_SEP_CHARS}[ \t]{{0,3}}){{1,2}}"
    rf"|[ \t]{{0,3}}\r?\n[ \t]{{0,3}})\d+)*"
)
_GROUP = re.compile(r"\d+")
_LOOSE, _TIGHT, _BARRIER = 0, 1, 2
_PHONE_966 = re.compile(r"9660?5\d{8}")  # a Saudi mobile with the country code and no + or 00


def _sep_kind(sep: str) -> int:
    mark = sep.strip(" \t\r\n")
    if not mark:
        return _LOOSE
    if mark == sep:
        return _TIGHT  # glued: "050-123", "1.0.2", "2024/05", "10:30"
    if "," in mark or "." in mark:
        return _BARRIER  # ", " and ". " end a number: a list or a sentence
    return _LOOSE  # " - ", ") "


def _year(y: str) -> bool:
    v = int(y)
    return 1300 <= v <= 1500 or 1900 <= v <= 2100  # Hijri and Gregorian


def _is_date(a: str, b: str, c: str, mark: str) -> bool:
    """Y-M-D or D-M-Y/M-D-Y with a four-digit year; a two-digit year only with slashes ("1/5/24"):
    "2-6-64" is as likely a cut-up ID as a date."""
    if len(a) == 4:
        return _year(a) and len(b) <= 2 and len(c) <= 2 and 1 <= int(b) <= 12 and 1 <= int(c) <= 31
    if len(a) <= 2 and len(b) <= 2 and (_year(c) if len(c) == 4 else len(c) == 2 and mark == "/"):
        d, m = int(a), int(b)
        return (1 <= d <= 31 and 1 <= m <= 12) or (1 <= d <= 12 and 1 <= m <= 31)
    return False


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_ok(digits: str) -> bool:
    backwards = digits[::-1]
    return (sum(map(int, backwards[::2])) + sum(_LUHN_DOUBLED[int(d)] for d in backwards[1::2])) % 10 == 0


def _digit_kind(digits: str, international: bool, cued: bool) -> str | None:
    """The kind of an ID-, phone- or card-shaped digit string; None for any other number.

    Phones: 05xxxxxxxx, 5xxxxxxxx, 01[1-7]xxxxxxx, 966(0)5xxxxxxxx; after + any 8-15 digits (E.164, any
    country), after 00 any country code and number. Plain string tests: this runs for every part of every
    digit run."""
    n, first = len(digits), digits[0]
    if n == 10:
        if first in "12" or (cued and first != "0"):
            return "national_id"  # near "هويتي"/"رقم الحدود", any ten digits the writer calls an ID
        if first == "0" and (digits[1] == "5" or (digits[1] == "1" and digits[2] in "1234567")):
            return "phone"
    elif n == 9 and first == "5":
        return "phone"
    if first == "0":
        if digits[1] == "0" and digits[2] != "0" and 10 <= n <= 16:
            return "phone"
    elif international:
        if 8 <= n <= 15:
            return "phone"
    elif first == "9" and digits.startswith("966") and _PHONE_966.fullmatch(digits):
        return "phone"
    if 13 <= n <= 19 and (first in "3456" or (n == 16 and "22" <= digits[:2] <= "27")) and _luhn_ok(digits):
        return "card"
    return None


# The lengths _digit_kind can accept, by first digit, when no + and no ID word come before.
_CARD = frozenset(range(13, 20))
_LENGTHS = {
    "0": frozenset(range(10, 17)), "1": frozenset({10}), "2": frozenset({10, 16}), "3": _CARD, "4": _CARD,
    "5": _CARD | {9}, "6": _CARD, "7": frozenset(), "8": frozenset(), "9": frozenset({12, 13}),
}  # fmt: skip
_ANY_LENGTH = frozenset(range(8, 20))


def _thousands(groups: list[str]) -> bool:
    return len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


class _Digits:
    """One run of digit groups in a view and the separators between them."""

    def __init__(self, view: str, start: int, text: str) -> None:
        self.view = view
        self.spans = [(start + g.start(), start + g.end()) for g in _GROUP.finditer(text)]
        self.digits = [view[s:e] for s, e in self.spans]
        self.seps = [view[self.spans[k][1] : self.spans[k + 1][0]] for k in range(len(self.spans) - 1)]
        self.kinds = [_sep_kind(s) for s in self.seps]
        self.marks = [s.strip(" \t\r\n") for s in self.seps]
        self.blocked = [False] * len(self.spans)
        self.cued = False

    def block_dates_and_times(self) -> None:
        """Dates: three groups joined by one of / - . (two with /), not part of a longer chain of that mark.
        Times: "10:30", "10:30:45". No ID or phone is read through them."""
        digits, marks, kinds, n = self.digits, self.marks, self.kinds, len(self.digits)
        for k in range(n - 1):
            mark = marks[k]
            if mark not in ("/", "-", ".", ":") or (k > 0 and marks[k - 1] == mark):
                continue
            chain = k + 1
            while chain < n - 1 and marks[chain] == mark:
                chain += 1
            size = chain - k + 1  # groups joined by this mark
            if mark == ":":
                hms = digits[k : chain + 1]
                if size in (2, 3) and kinds[k] == _TIGHT and len(hms[0]) <= 2 and int(hms[0]) <= 24:
                    if all(len(x) == 2 and int(x) <= 59 for x in hms[1:]):
                        self.blocked[k : chain + 1] = [True] * size
            elif (
                size == 3
                and kinds[k] == kinds[k + 1]
                and _is_date(digits[k], digits[k + 1], digits[k + 2], mark)
            ):
                self.blocked[k : k + 3] = [True] * 3
            elif size == 2 and mark == "/":
                a, b = digits[k], digits[k + 1]
                if (len(a) <= 2 and len(b) == 4 and _year(b)) or (len(a) == 4 and _year(a) and len(b) <= 2):
                    self.blocked[k : k + 2] = [True] * 2

    def block_amounts(self, lex: _Lexicon) -> None:
        """Amounts grouped by thousands with , . or ' (and a decimal part after), and a number touching a
        currency word; not when the writer announced an ID or a phone just before ("هويتي 1,023,456,789")."""
        view, digits, marks, kinds, n = self.view, self.digits, self.marks, self.kinds, len(self.digits)
        start, end = self.spans[0][0], self.spans[-1][1]
        before = _PLACEHOLDER_RE.sub(" ", view[max(0, start - 40) : start])  # "[رقم هوية]" is no cue
        self.cued = lex.number_cue.search(_keyed(before)) is not None
        if self.cued:
            return
        k = 0
        while k < n - 1:
            mark = marks[k]
            if kinds[k] != _TIGHT or mark not in (",", ".", "'"):
                k += 1
                continue
            j = k
            while j < n - 1 and kinds[j] == _TIGHT and marks[j] == mark:
                j += 1
            if j - k >= 2 and _thousands(digits[k : j + 1]):
                self.blocked[k : j + 1] = [True] * (j + 1 - k)
                if j < n - 1 and kinds[j] == _TIGHT and marks[j] in (",", ".") and len(digits[j + 1]) <= 3:
                    self.blocked[j + 1] = True  # the decimal part: "1,234,567,890.50"
            k = j
        after = lex.currency_after.match(_keyed(view[end : end + 16]))
        before = lex.currency_before.search(_keyed(view[max(0, start - 16) : start]))
        for touching, groups in ((after, range(n - 1, -1, -1)), (before, range(n))):
            if touching:
                self._block_amount_at(list(groups))

    def _block_amount_at(self, order: list[int]) -> None:
        """The thousands-grouped run (one separator throughout) or single long group at one end."""
        run = [order[0]]
        for g in order[1:]:
            if self.seps[min(g, run[-1])] != self.seps[min(order[0], order[1])]:  # one separator throughout
                break
            run.append(g)
        while len(run) > 1 and not _thousands([self.digits[g] for g in sorted(run)]):
            run.pop()
        if len(run) > 1 or len(self.digits[run[0]]) >= 7:
            for g in run:
                self.blocked[g] = True

    def candidates(self, plus_before: bool, found: list[tuple[int, int, str]]) -> None:
        """Every whole-group part that is ID-, phone- or card-shaped."""
        kinds, n = self.kinds, len(self.spans)
        lengths = [len(d) for d in self.digits]
        for i in range(n):
            if self.blocked[i]:
                continue
            # A part may not start or end inside a longer number glued by a tight mark ("1023456789/5").
            if i > 0 and kinds[i - 1] == _TIGHT and lengths[i - 1] < 7:
                continue
            international = plus_before if i == 0 else "+" in self.seps[i - 1]
            # Only these lengths can be PII for this first digit; a long run of single digits is cheap.
            useful = _ANY_LENGTH if international or self.cued else _LENGTHS[self.digits[i][0]]
            digits = ""
            for j in range(i, n):
                if self.blocked[j] or (j > i and kinds[j - 1] == _BARRIER):
                    break
                digits += self.digits[j]
                if len(digits) > 19:
                    break
                if len(digits) not in useful or (j < n - 1 and kinds[j] == _TIGHT and lengths[j + 1] < 7):
                    continue
                kind = _digit_kind(digits, international, self.cued)
                if kind:
                    found.append((*self._span(i, j, international), kind))

    def _span(self, i: int, j: int, international: bool) -> tuple[int, int]:
        view = self.view
        start, end = self.spans[i][0], self.spans[j][1]
        if international:
            start = view.rindex("+", 0, start)
        inner = view[start:end]
        if start > 0 and view[start - 1] == "(" and inner.count(")") > inner.count("("):
            start -= 1
        if view[end : end + 1] == ")" and inner.count("(") > inner.count(")"):
            end += 1
        return start, end


def _number_candidates(view: str, found: list[tuple[int, int, str]]) -> None:
    lex = _lexicon()
    for chunk in _CHUNK.finditer(view):
        if chunk.end() - chunk.start() < 8:
            continue
        run = _Digits(view, chunk.start(), chunk.group())
        if sum(map(len, run.digits)) < 8:
            continue
        run.block_dates_and_times()
        run.block_amounts(lex)
        plus = view[max(0, chunk.start() - 2) : chunk.start()].rstrip(" ").endswith("+")
        run.candidates(plus, found)


# ------------------------------------------------------------------------------- e-mails, IBAN, plates
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


# --------------------------------------------------------------------------------------------- names
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CUE_GAP = re.compile(r"[ \t]*[:.\-(«\"“']?[ \t]*")
_SPACES = re.compile(r"[ \t]{1,3}")
_BLESSING = frozenset({"الله", "ربي", "ربنا", "المولى"})  # "أنا أحمد الله": a verb, not the name أحمد
_BIN = frozenset({"بن", "بنت", "ابن", "bin", "bint", "ibn", "ben"})
_AL = "ال"  # "آل" folds to this key
_DIN = "الدين"  # "نور الدين", "صلاح الدين"
_KUNYA_WORDS = frozenset({"ابو", "ابا", "ابي", "ام"})  # "أبو فهد", "أم محمد": how people are called
# Classes of name parts. _SURNAME: an ال…ي nisba ("القحطاني") or ال + a given name ("الصالح",
# "العبدالله"), taken as a family name after a given name; _LATIN: an unlisted Latin-script word;
# _KUNYA: أبو/أم + a given name, a name on its own.
_GIVEN, _AMBIGUOUS, _FAMILY, _SURNAME, _LATIN, _UNKNOWN, _KUNYA = range(7)


class _Names:
    """Reads person names in one view: a cue and what follows it, or a chain of listed names."""

    def __init__(self, view: str, keyed: str, lex: _Lexicon) -> None:
        self.view, self.lex = view, lex
        self.toks = [m.span() for m in _WORD.finditer(keyed)]
        self.keys = [keyed[s:e] for s, e in self.toks]

    def glued(self, a: int, b: int) -> bool:
        """Tokens a and b are neighbours with only a few spaces between them."""
        return (
            b < len(self.toks) and _SPACES.fullmatch(self.view, self.toks[a][1], self.toks[b][0]) is not None
        )

    def unit(self, k: int) -> tuple[int, int]:
        """One name part starting at token k: (index after it, its class)."""
        lex, keys, key = self.lex, self.keys, self.keys[k]
        nxt = keys[k + 1] if self.glued(k, k + 1) else None
        if key == "عبد" and nxt and nxt.startswith(_AL) and len(nxt) > 3:
            return k + 2, _GIVEN  # "عبد الله", "عبد الرحمن"
        if nxt == _DIN and (
            key in lex.given or key in ("صلاح", "عز", "علاء", "بهاء", "شمس", "تاج", "محي", "شرف")
        ):
            return k + 2, _GIVEN
        if key in _KUNYA_WORDS and nxt and (nxt in lex.given or nxt in lex.family):
            if key != "ام" or nxt not in lex.ambiguous:  # "أم" is also "or": "جديد أم مستعمل"
                return k + 2, _KUNYA
        if key == _AL and nxt and len(nxt) >= 3 and nxt not in lex.not_name:
            return k + 2, _FAMILY  # "آل سعود", "آل الشيخ"
        if key in lex.given:
            return k + 1, (_AMBIGUOUS if key in lex.ambiguous else _GIVEN)
        if key in lex.family:
            return k + 1, _FAMILY
        if key.isascii():
            return k + 1, (_GIVEN if key in lex.latin_given else _LATIN)
        if len(key) >= 5 and key.startswith(_AL) and key not in lex.adjective and key not in lex.not_name:
            if key.endswith("ي") or key[2:] in lex.given:
                return k + 1, _SURNAME
        return k + 1, _UNKNOWN

    def capitalized(self, k: int) -> bool:
        return self.view[self.toks[k][0]].isupper()

    def first_ok(self, k: int, nxt: int, cls: int, mode: int) -> bool:
        key = self.keys[k]
        if key in self.lex.not_name:
            return False
        if cls in (_GIVEN, _AMBIGUOUS, _FAMILY, _KUNYA):
            return cls != _GIVEN or not key.isascii() or self.capitalized(k) or mode == _STRONG
        if mode != _STRONG:
            return False
        # A strong cue: an unlisted word is a name unless it is ال- or و-prefixed or a complaint follows
        # ("اسمي مكتوب غلط", "اسمي وهويتي").
        after_ok = not self.glued(nxt - 1, nxt) or self.keys[nxt] not in self.lex.not_name
        return after_ok and (cls in (_SURNAME, _LATIN) or not key.startswith((_AL, "و")))

    def read(self, j: int, mode: int) -> int:
        """Index after the name starting at token j (j itself when there is none)."""
        lex, keys, n = self.lex, self.keys, len(self.toks)
        units: list[tuple[int, int]] = []  # (end token, class)
        k = j
        while k < n and len(units) < 4:
            if units and not self.glued(k - 1, k):
                break
            if units and keys[k] in _BIN and self.glued(k, k + 1):
                end, cls = self.unit(k + 1)
                if cls in (_GIVEN, _AMBIGUOUS, _FAMILY, _SURNAME):
                    units.append((end, _GIVEN))
                    k = end
                    continue
                break
            end, cls = self.unit(k)
            if end < n and self.glued(end - 1, end) and keys[end] in _BLESSING:
                break
            if not units:
                if not self.first_ok(k, end, cls, mode):
                    break
                if mode == _CHAIN and cls not in (_GIVEN, _AMBIGUOUS, _KUNYA):
                    break
            elif keys[k] in lex.not_name or cls == _UNKNOWN:
                break
            elif cls == _LATIN and not self.capitalized(k) and mode != _STRONG:
                break  # "I am Fahad from Riyadh"; after "my name is", "fahad alqahtani" in lower case too
            elif cls == _SURNAME and (mode == _CHAIN and units[0][1] not in (_GIVEN, _KUNYA)):
                break
            units.append((end, cls))
            k = end
        if mode != _STRONG:
            while units and units[-1][1] == _AMBIGUOUS:
                units.pop()  # "أنا سعيد": an adjective unless another name part follows
        if mode == _CHAIN and len(units) < 2 and not (units and units[0][1] == _KUNYA):
            return j
        return units[-1][0] if units else j

    def after_place(self, k: int) -> bool:
        return k > 0 and self.keys[k - 1] in self.lex.place and self.glued(k - 1, k)

    def opens(self, k: int) -> bool:
        """Token k starts a sentence: first, after punctuation or a line break, or after a greeting."""
        return k == 0 or not self.glued(k - 1, k) or self.keys[k - 1] in self.lex.opener

    def strength(self, k: int, j: int, strength: int) -> int:
        """A cue's strength where it stands: tokens k..j-1 are the cue, j the first word after it."""
        if strength == _STRONG and not self.opens(k):
            return _WEAK  # "أغير اسمي لأني تزوجت": the name is the object here, not introduced
        if strength == _WEAK and ":" in self.view[self.toks[j - 1][1] : self.toks[j][0]]:
            return _STRONG  # a form line: "الاسم: جاسر"
        return strength

    def spans(self) -> list[tuple[int, int]]:
        lex, keys, toks, n = self.lex, self.keys, self.toks, len(self.toks)
        out: list[tuple[int, int]] = []
        k = 0
        while k < n:
            key = keys[k]
            for words, strength in lex.cues.get(key, ()):
                size = len(words)
                if tuple(keys[k : k + size]) == words and all(
                    self.glued(k + i, k + i + 1) for i in range(size - 1)
                ):
                    j = k + size
                    if (
                        not self.after_place(k)
                        and j < n
                        and _CUE_GAP.fullmatch(self.view, toks[j - 1][1], toks[j][0])
                    ):
                        end = self.read(j, self.strength(k, j, strength))
                        if end > j:
                            out.append((toks[j][0], toks[end - 1][1]))
                            k = end
                            break
                    k = j
                    break
            else:
                if (
                    key in lex.given
                    or key == "عبد"
                    or key in _KUNYA_WORDS
                    or (key in lex.latin_given and self.capitalized(k))
                ):
                    if not self.after_place(k):
                        end = self.read(k, _CHAIN)
                        if end > k:
                            out.append((toks[k][0], toks[end - 1][1]))
                            k = end
                            continue
                k += 1
        return out


def _name_candidates(view: str, found: list[tuple[int, int, str]]) -> None:
    lex = _lexicon()
    keyed = _keyed(view)
    if lex.triggers.isdisjoint(_WORD.findall(keyed)):
        return  # most texts: no cue and no listed name
    found.extend((s, e, "name") for s, e in _Names(view, keyed, lex).spans())


# --------------------------------------------------------------------------------------------- public
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


_ANY_PLACEHOLDER = {p: kind for table in PLACEHOLDERS_BY_LOCALE.values() for kind, p in table.items()}
_PLACEHOLDER_RE = re.compile(_alternation(list(_ANY_PLACEHOLDER)))


def localize_placeholders(text: str, locale: str) -> str:
    """The text with every redaction placeholder (of any locale) written in ``locale`` ("[هاتف]" → "[phone]")."""
    table = PLACEHOLDERS_BY_LOCALE.get(locale)
    if table is None or not text or "[" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: table[_ANY_PLACEHOLDER[m.group()]], text)
