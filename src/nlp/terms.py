"""Tokens and terms: tokenizer, Arabic/English stop words, light stemming, character n-grams, surface forms."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

import Stemmer
from camel_tools.tokenizers.word import simple_word_tokenize
from camel_tools.utils.dediac import dediac_ar

from nlp.normalize import EMAIL_TOKEN, MENTION_TOKEN, URL_TOKEN, mask_entities, normalize, normalize_unicode

__all__ = [
    "SurfaceForms",
    "char_ngrams",
    "content_terms",
    "display_tokens",
    "is_stopword",
    "stem",
    "stopwords",
    "term_key",
    "tokenize",
]

_WORDISH = re.compile(r"\w", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_PURE_NUMBER = re.compile(r"^[\d.,٫٬]+$")
_DISPLAY_DROP = dict.fromkeys([0x0640, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF])


@cache
def stopwords() -> frozenset[str]:
    """Arabic (MSA + Gulf) and English stop words, in normalized form, plus the entity placeholders."""
    words = {URL_TOKEN, EMAIL_TOKEN, MENTION_TOKEN}
    for name in ("stopwords_ar.txt", "stopwords_en.txt"):
        text = resources.files("nlp.resources").joinpath(name).read_text(encoding="utf-8")
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                words.update(normalize(line).split())
    return frozenset(words)


def is_stopword(token: str) -> bool:
    """True for a normalized token that carries no topic (function word, placeholder, number, one letter)."""
    return len(token) < 2 or token in stopwords() or bool(_PURE_NUMBER.match(token))


@lru_cache(maxsize=200_000)
def _word_tokens(chunk: str) -> tuple[str, ...]:
    """camel-tools' tokens of one whitespace-free chunk that contain a letter or digit.

    simple_word_tokenize splits on whitespace and then walks each chunk character by character in
    Python; chunks repeat across texts (Zipf), so each distinct one is tokenized once.
    """
    return tuple(tok for tok in simple_word_tokenize(chunk) if _WORDISH.search(tok))


def _tokens(text: str) -> list[str]:
    return [tok for chunk in text.split() for tok in _word_tokens(chunk)]


def tokenize(text: str, *, normalized: bool = False) -> list[str]:
    """Word tokens of the matching form (punctuation and emoji dropped). Pass normalized=True to skip
    normalization when the caller already holds normalize(text)."""
    if not normalized:
        text = normalize(text)
    return _tokens(text)


_EN_STEMMER = Stemmer.Stemmer("english")

# Arabic light stemming is our own prefix/suffix stripping on the normalized form (teh marbuta is already
# heh). Snowball's 'arabic' stemmer was tried first: it strips letters that belong to the root
# ("بطاقتي" -> "طاقت" but "البطاقة" -> "بطاق"), which splits one word across themes.
_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_AR_SUFFIXES = (
    "كما",
    "هما",
    "تين",
    "تان",
    "ها",
    "هم",
    "هن",
    "كم",
    "كن",
    "نا",
    "ات",
    "ان",
    "ون",
    "ين",
    "يه",
    "ه",
    "ي",
    "ك",
)
_POSSESSIVE = ("ي", "ك", "ه", "ها", "هم", "هن", "كم", "كن", "نا", "كما", "هما")


def _light_stem_ar(word: str) -> str:
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    else:
        # A bare conjunction waw only when enough is left, so that roots starting with waw survive.
        if word.startswith("و") and len(word) >= 5:
            word = word[1:]
    # Two passes: a plural can carry a possessive ("تحويلاتي" = تحويل + ات + ي).
    for _ in range(2):
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                # A possessive after teh marbuta turns it into teh ("بطاقة" + "ي" = "بطاقتي"): drop it too.
                if (
                    suffix in _POSSESSIVE
                    and word.endswith("ت")
                    and not word.endswith("ات")
                    and len(word) >= 4
                ):
                    word = word[:-1]
                break
        else:
            break
    return word


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Light stem of one normalized token (Arabic or English); used to group words, never shown."""
    if _ARABIC.search(token):
        return _light_stem_ar(token)
    return _EN_STEMMER.stemWord(token)


def content_terms(text: str, *, normalized: bool = False) -> list[str]:
    """Stems of the topic-bearing tokens of a text; the analyzer behind word TF-IDF and theme keywords."""
    return [stem(tok) for tok in tokenize(text, normalized=normalized) if not is_stopword(tok)]


def display_tokens(text: str) -> list[str]:
    """Tokens in readable spelling (hamzas and teh marbuta kept, diacritics and tatweel dropped)."""
    text = dediac_ar(normalize_unicode(mask_entities(text))).translate(_DISPLAY_DROP)
    return _tokens(text)


@lru_cache(maxsize=200_000)
def term_key(token: str) -> str | None:
    """The stem a readable token is counted under, or None when it is a stop word.

    Cached: labelling looks up every token of thousands of texts, and words repeat (Zipf)."""
    norm = normalize(token)
    if " " in norm or is_stopword(norm):
        return None
    return stem(norm)


def char_ngrams(text: str, n_min: int = 2, n_max: int = 5, *, normalized: bool = False) -> list[str]:
    """Character n-grams inside word boundaries (each word padded with spaces), as for TF-IDF 'char_wb'."""
    if not normalized:
        text = normalize(text)
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(n_min, n_max + 1):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class SurfaceForms:
    """Counts which readable spelling each stem came from, so labels show words people wrote, not stems."""

    def __init__(self) -> None:
        self._forms: dict[str, Counter[str]] = defaultdict(Counter)

    def add_text(self, text: str) -> list[str]:
        """Record the surface forms of one text; returns its stems (stop words dropped)."""
        keys = []
        for tok in display_tokens(text):
            key = term_key(tok)
            if key is not None:
                self._forms[key][tok.lower()] += 1
                keys.append(key)
        return keys

    def add_texts(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.add_text(t) for t in texts]

    def surface(self, key: str) -> str:
        """Most frequent readable form of a stem (ties broken alphabetically for determinism)."""
        forms = self._forms.get(key)
        if not forms:
            return key
        top = max(forms.values())
        # Among the frequent spellings prefer one without a glued conjunction/preposition: "تسجيل" reads
        # better as a label than "وتسجيل" even when both are common.
        frequent = [(f, c) for f, c in forms.items() if c * 2 >= top]
        bare = [(f, c) for f, c in frequent if not (len(f) > 3 and f[0] in "وفبل" and f[1:] in forms)]
        return min(bare or frequent, key=lambda kv: (-kv[1], kv[0]))[0]
