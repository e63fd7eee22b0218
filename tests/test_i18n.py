"""Every user-facing string has an Arabic translation, and the catalogs agree with the code."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "voice" / "locale"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _msgids() -> set[str]:
    found: set[str] = set()
    method_map = [("src/voice/**.py", "python"), ("src/ideas/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def test_every_string_in_the_code_has_an_arabic_translation() -> None:
    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        value = message.string
        translated[key] = all(value) if isinstance(value, tuple) else bool(value)
    missing = sorted(m for m in _msgids() if not translated.get(m))
    assert not missing, f"{len(missing)} strings without Arabic: {missing[:20]}"


def test_arabic_catalog_has_six_plural_forms() -> None:
    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    assert catalog.num_plurals == 6
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(message.string) == 6 and all(message.string), message.id


def test_placeholders_survive_translation() -> None:
    import re

    catalog = read_po((LOCALE / "ar" / "LC_MESSAGES" / "messages.po").open("rb"), locale="ar")
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        wanted = set(re.findall(r"%\((\w+)\)s", message.id))
        assert set(re.findall(r"%\((\w+)\)s", message.string)) == wanted, message.id
