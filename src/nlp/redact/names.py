"""Person names: the words after a cue, and chains of listed names in a person-like shape."""

from __future__ import annotations

import re

from nlp.redact.lexicon import _CHAIN, _KUNYA_WORDS, _STRONG, _WEAK, _keyed, _Lexicon, _lexicon

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CUE_GAP = re.compile(r"[ \t]*[:.\-(«\"“']?[ \t]*")
_SPACES = re.compile(r"[ \t]{1,3}")
_BLESSING = frozenset({"الله", "ربي", "ربنا", "المولى"})  # "أنا أحمد الله": a verb, not the name أحمد
_BIN = frozenset({"بن", "بنت", "ابن", "bin", "bint", "ibn", "ben"})
_AL = "ال"  # "آل" folds to this key
_DIN = "الدين"  # "نور الدين", "صلاح الدين"
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
