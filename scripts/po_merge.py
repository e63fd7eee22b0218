"""Merge translations into a language catalog: `python scripts/po_merge.py ar FILE.py` where FILE.py
defines a dict AR = {msgid: translation}. New msgids come from src/voice/locale/messages.pot
(run `make messages` first); existing translations are kept unless FILE.py gives a new one."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1] / "src" / "voice" / "locale"


def main(lang: str, source: str | None) -> None:
    template = read_po((ROOT / "messages.pot").open("rb"))
    po_path = ROOT / lang / "LC_MESSAGES" / "messages.po"
    existing = read_po(po_path.open("rb"), locale=lang) if po_path.exists() else None
    given = runpy.run_path(source)["AR"] if source else {}
    template.locale = lang
    template.project, template.version, template.fuzzy = "Voice", "", False
    template.copyright_holder = "Voice"
    missing = []
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        old = existing.get(message.id) if existing else None
        if key in given:
            message.string = given[key]
        elif old is not None and old.string:
            message.string = old.string
        elif lang == "en":
            message.string = ""  # English msgids are the English text
        else:
            missing.append(key)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as fp:
        write_po(fp, template, omit_header=False, no_location=True, sort_output=True, width=120)
    print(f"{lang}: {len(template)} messages, {len(missing)} untranslated")
    for key in missing:
        print("  missing:", key)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
