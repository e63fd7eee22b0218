"""Digit runs: national IDs/iqamas, phones and cards, with dates, times and amounts set apart."""

from __future__ import annotations

import re

from nlp.redact.lexicon import _keyed, _Lexicon, _lexicon
from nlp.redact.placeholders import _PLACEHOLDER_RE

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
