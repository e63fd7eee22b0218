"""Text normalization for matching and search: one canonical form for Arabic, English and digits."""

from __future__ import annotations

import re
import unicodedata

from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
)
from camel_tools.utils.normalize import normalize_unicode as _camel_normalize_unicode

__all__ = [
    "EMAIL_TOKEN",
    "MENTION_TOKEN",
    "URL_TOKEN",
    "mask_entities",
    "normalize",
    "normalize_digits",
    "normalize_for_search",
    "normalize_unicode",
    "strip_invisible",
]

# Placeholders are plain ASCII words so that the tokenizer keeps them whole and stop-word lists can drop them.
URL_TOKEN = "xurlx"  # noqa: S105 (a placeholder word, not a secret)
EMAIL_TOKEN = "xemailx"  # noqa: S105
MENTION_TOKEN = "xmentionx"  # noqa: S105

# Arabic-Indic (U+0660..) and Extended/Persian (U+06F0..) digits; str.isdigit() accepts both but
# int() parsing, regexes on [0-9] and TF-IDF would otherwise treat "١٢" and "12" as different.
_DIGITS = {cp + i: ord("0") + i for cp in (0x0660, 0x06F0) for i in range(10)}

# Invisible characters that break matching: bidi embeddings/overrides/isolates, the Arabic letter mark,
# zero-width spaces and joiners, the BOM, soft hyphen. Copy-pasted government texts are full of them.
_INVISIBLE = dict.fromkeys(
    [173, 1564, 8203, 8204, 8205, 8206, 8207, 8288, 65279, *list(range(8234, 8239)), *list(range(8294, 8298))]
)

# Marks camel-tools' dediac_ar leaves alone (Quranic annotation signs, madda/hamza above and below,
# small high letters) and tatweel, which is only visual elongation.
_EXTRA_MARKS = dict.fromkeys([0x0640, *range(0x0610, 0x061B), *range(0x0653, 0x0660), *range(0x06D6, 0x06EE)])

# Persian/Urdu letter variants that Arabic keyboards on phones produce and that render the same.
_PERSIAN_LETTERS = {0x06CC: 0x064A, 0x06CA: 0x0648, 0x06A9: 0x0643, 0x06C1: 0x0647, 0x06D5: 0x0647}

_TRANSLATE = {**_DIGITS, **_INVISIBLE, **_EXTRA_MARKS, **_PERSIAN_LETTERS}

_URL_RE = re.compile(
    r"(?:https?://|ftp://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|gov|edu|sa|io|me|info)(?:/\S*)?\b",
    re.I,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MENTION_RE = re.compile(r"(?<![\w@])@\w{1,30}")
# Three or more of the same letter is dialect/tweet elongation ("شكراااا", "sooo"); digits are never squeezed.
_ELONGATION_RE = re.compile(r"([^\W\d_])\1{2,}")
_TRIPLE_RE = re.compile(r"(\w)\1\1")
_TRANSLATED_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _TRANSLATE) + "]")


def normalize_unicode(text: str) -> str:
    """NFKC with camel-tools' fixes for the two ligatures NFKC leaves whole (riyal sign, basmala).

    camel-tools maps every character through a Python-level CharMapper before NFKC: 60 % of the time of
    normalizing 100k texts. The ligatures are rare, so the mapper runs only when one is present.
    """
    if "\ufdfc" in text or "\ufdfd" in text:
        return _camel_normalize_unicode(text)
    return unicodedata.normalize("NFKC", text)


def normalize_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII; the result has the same length and offsets."""
    return text.translate(_DIGITS)


def strip_invisible(text: str) -> str:
    """Remove bidi controls, zero-width characters and the BOM."""
    return text.translate(_INVISIBLE)


def mask_entities(text: str) -> str:
    """Replace URLs, e-mail addresses and @mentions by placeholder words (e-mails first: they contain '@')."""
    # Cheap containment checks first: most texts hold none of them, and each regex pass costs more.
    if "@" in text:
        text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    if "." in text or ":" in text:  # every URL form has one of them
        text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    if "@" in text:
        text = _MENTION_RE.sub(f" {MENTION_TOKEN} ", text)
    return text


def normalize(text: str) -> str:
    """Canonical form for matching: NFKC, invisibles/diacritics/tatweel removed, letters unified, digits ASCII,
    URLs/e-mails/mentions masked, English lower-cased, whitespace collapsed. Returns a new string."""
    if not text:
        return ""
    text = normalize_unicode(text)  # NFKC: presentation forms and ligatures to base letters
    if _TRANSLATED_RE.search(text):  # str.translate with a dict table is slow; few texts need it
        text = text.translate(_TRANSLATE)
    text = mask_entities(text)
    text = dediac_ar(text)
    # Hamzated alefs, alef maksura and teh marbuta are spelled inconsistently, in dialect above all.
    text = normalize_teh_marbuta_ar(normalize_alef_maksura_ar(normalize_alef_ar(text))).lower()
    if _TRIPLE_RE.search(text):  # the back-referencing substitution is twice as slow as this check
        text = _ELONGATION_RE.sub(r"\1", text)
    return " ".join(text.split())  # the same whitespace as \s+, collapsed and stripped


# Search uses exactly the matching form; the alias keeps the web app's call sites self-explaining.
normalize_for_search = normalize
