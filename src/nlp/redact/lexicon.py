"""The name lists and cue words of nlp/resources, read once into a lexicon compared on a key form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from nlp.redact.folding import fold

# Names and cues are compared on a key: the view with hamzated alefs bare, teh marbuta as heh, Persian
# yeh/kaf Arabic, Latin lower-case. Alef maksura stays apart from yeh ("على" is not "علي").
_STRONG, _WEAK, _CHAIN = 2, 1, 0
_KUNYA_WORDS = frozenset({"ابو", "ابا", "ابي", "ام"})  # "أبو فهد", "أم محمد": how people are called


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
