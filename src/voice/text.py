"""Checks and derived forms of text people write (feedback, ideas, answers, notes): what is refused, what
the public sees, what search uses."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import msgspec

from voice.errors import ValidationFailed
from voice.i18n import _, ngettext

MIN_BODY = 5
MAX_BODY = 5000
# A body as an API struct declares it (``clean_body``'s bounds, so the published description states them);
# "at least MIN_BODY visible characters" (spaces not counted) stays with ``clean_body``, a documented 422.
BodyText = Annotated[str, msgspec.Meta(min_length=MIN_BODY, max_length=MAX_BODY)]

# Directional overrides and isolates reorder what a reader sees (the "Trojan Source" trick) and
# have no place in a message; the plain marks LRM/RLM/ALM that keyboards insert are allowed.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Markup is refused, not silently stripped, so people see why their text was not accepted.
_MARKUP = re.compile(r"<\s*/?\s*(script|iframe|object|embed|svg|img|a|style|link|meta|form|input)\b|"
                     r"javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)


def clean_body(raw: str, field: str = "body") -> str:
    """The body as stored: NFC-normalized and trimmed; refused with a clear reason when unusable."""
    text = unicodedata.normalize("NFC", raw or "").strip()
    if _CONTROL.search(text):
        raise ValidationFailed(_("The text contains control characters that are not allowed."), field=field)
    if _BIDI_CONTROLS.search(text):
        raise ValidationFailed(
            _("The text contains hidden direction-override characters. Please retype it."), field=field)
    if _MARKUP.search(text):
        raise ValidationFailed(_("Please write plain text: HTML and scripts are not accepted."), field=field)
    visible = re.sub(r"\s+", "", text)
    if len(visible) < MIN_BODY:
        raise ValidationFailed(ngettext("Please write at least %(num)s character.", "Please write at least %(num)s characters.", MIN_BODY), field=field)
    if len(text) > MAX_BODY:
        raise ValidationFailed(ngettext("Please keep it under %(num)s character.", "Please keep it under %(num)s characters.", MAX_BODY), field=field)
    return text


# Texts known to be redacted already (outputs of ``public_text``): a public column redacts when the
# attribute is set and again when the value is bound, and the second pass is then a set lookup. Only
# redacted forms are remembered, never an original.
_REDACTED: set[str] = set()
_REDACTED_MAX = 4096


def public_text(body: str) -> str:
    """The text with personal data (IDs, phones, e-mails, IBANs, cards, plates, names after cues) replaced by
    typed placeholders: the one function behind every public text (``voice.db.PublicText`` calls it)."""
    if not body or body in _REDACTED:
        return body
    from nlp.redact import redact

    out = redact(body)
    if len(_REDACTED) >= _REDACTED_MAX:
        _REDACTED.clear()
    _REDACTED.add(out)
    return out


def public_value(body: str, length: int | None = None) -> str:
    """``public_text`` cut to ``length`` characters (a placeholder can be longer than what it replaced)."""
    out = public_text(body)
    if length is not None and len(out) > length:
        out = out[: length - 1] + "…"
    return out


def search_terms(text: str) -> list[str]:
    """Normalized words and their light stems: 'الجوازات' and 'جوازات' meet on a shared stem."""
    from nlp.terms import stem, tokenize

    terms: list[str] = []
    for token in tokenize(text):
        terms.append(token)
        root = stem(token)
        if root and root != token:
            terms.append(root)
    return terms


def search_text(text: str) -> str:
    return " ".join(search_terms(text))


def query_terms(query: str) -> str:
    """A query as the stems of its words (each must match), for plainto_tsquery('simple', …)."""
    from nlp.terms import stem, tokenize

    return " ".join(stem(t) or t for t in tokenize(query))


def warm_up() -> None:
    """Import and exercise the NLP code behind ``public_text`` and ``search_text`` once."""
    search_text(public_text("تجربة تسجيل الدخول إلى الخدمة 0501234567"))
