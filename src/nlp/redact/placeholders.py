"""Typed redaction placeholders per locale, and rewriting stored placeholders into a reader's locale."""

from __future__ import annotations

import re

from nlp.redact.lexicon import _alternation

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

_ANY_PLACEHOLDER = {p: kind for table in PLACEHOLDERS_BY_LOCALE.values() for kind, p in table.items()}
_PLACEHOLDER_RE = re.compile(_alternation(list(_ANY_PLACEHOLDER)))


def localize_placeholders(text: str, locale: str) -> str:
    """The text with every redaction placeholder (of any locale) written in ``locale`` ("[هاتف]" → "[phone]")."""
    table = PLACEHOLDERS_BY_LOCALE.get(locale)
    if table is None or not text or "[" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: table[_ANY_PLACEHOLDER[m.group()]], text)
