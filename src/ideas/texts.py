"""What people write on ideas: length limits, cleaning, and the word filter that holds an idea for a
moderator instead of refusing it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from voice.errors import ValidationFailed
from voice.i18n import ngettext
from voice.text import clean_body

MIN_TITLE = 8
MAX_TITLE = 200
MAX_COMMENT = 2000
MAX_REASON = 1000
MAX_ANSWER = 5000

_WORDS_FILE = Path(__file__).with_name("abuse_words.txt")
# Clitics that glue onto Arabic words: "والغبي" must meet "غبي".
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل")
_WORD_RE = re.compile(r"\w+")


@cache
def abuse_words() -> frozenset[str]:
    from nlp.normalize import normalize  # loaded on first use, like voice.text's NLP helpers

    lines = _WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(normalize(w) for w in (line.strip() for line in lines) if w and not w.startswith("#"))


def abusive_words(text: str) -> list[str]:
    """Words of the list found in the text (after normalization), in order of appearance."""
    from nlp.normalize import normalize

    words = abuse_words()
    found = []
    for token in _WORD_RE.findall(normalize(text)):
        candidates = [token] + [token[len(p):] for p in _PREFIXES if token.startswith(p) and len(token) - len(p) >= 3]
        if any(c in words for c in candidates):
            found.append(token)
    return found


def clean_wording(title: str, description: str, problem: str | None,
                  errors: dict[str, str]) -> tuple[str, str, str]:
    """An idea's title, description and optional problem, checked as one form (sharing and editing
    alike); each problem is added to ``errors``."""
    checked_title = clean_title(title, errors)
    checked_description = checked_problem = ""
    try:
        checked_description = clean_body(description, field="description")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if (problem or "").strip():
        try:
            checked_problem = clean_body(problem, field="problem")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    return checked_title, checked_description, checked_problem


def clean_title(raw: str, errors: dict[str, str]) -> str:
    """The title on one line, checked; a problem is added to ``errors`` (the form shows them all at once)."""
    text = " ".join((raw or "").split())
    try:
        text = clean_body(text, field="title")
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return text
    if len(text) < MIN_TITLE:
        errors["title"] = ngettext("Please give the idea a title of at least %(num)s character.", "Please give the idea a title of at least %(num)s characters.", MIN_TITLE)
    elif len(text) > MAX_TITLE:
        errors["title"] = ngettext("Please keep the title under %(num)s character.", "Please keep the title under %(num)s characters.", MAX_TITLE)
    return text


def optional_text(value: str | None, name: str, limit: int) -> str | None:
    """A reason or an answer staff may leave empty: None when empty, else checked and cleaned."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", limit), field=name)
    return clean_body(text, field=name)
