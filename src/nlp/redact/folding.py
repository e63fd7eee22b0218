"""Folding: the matching view of a text and the map from view positions back to the original."""

from __future__ import annotations

import re
import unicodedata

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
