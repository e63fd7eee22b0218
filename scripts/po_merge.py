"""Merge translations into a language catalog.

    python scripts/po_merge.py ar FILE.py     # FILE.py defines AR = {msgid: translation}
    python scripts/po_merge.py en

New msgids come from src/voice/locale/messages.pot (run `make messages` first). Existing
translations are kept unless FILE.py gives a new one; plural messages take a tuple with one form
per plural category of the language (six for Arabic). Prints what is still untranslated.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1] / "src" / "voice" / "locale"


def main(lang: str, source: str | None) -> int:
    template = read_po((ROOT / "messages.pot").open("rb"))
    po_path = ROOT / lang / "LC_MESSAGES" / "messages.po"
    existing = read_po(po_path.open("rb"), locale=lang) if po_path.exists() else None
    given = runpy.run_path(source)["AR"] if source else {}
    catalog = Catalog(locale=lang, project="Voice", version="", copyright_holder="Voice", fuzzy=False)
    missing = []
    for message in template:
        if not message.id:
            continue
        plural = isinstance(message.id, tuple | list)
        key = message.id[0] if plural else message.id
        old = existing.get(message.id) if existing else None
        string: object = ("",) * catalog.num_plurals if plural else ""
        if key in given:
            string = given[key]
        elif old is not None and (any(old.string) if plural else old.string):
            string = old.string
        elif lang != "en":  # English msgids are the English text
            missing.append(key)
        catalog.add(message.id, string, flags=message.flags - {"fuzzy"})
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fp:
        write_po(fp, catalog, no_location=True, sort_output=True, width=120)
    print(f"{lang}: {len(catalog)} messages, {len(missing)} untranslated")
    for key in missing:
        print("  missing:", key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
