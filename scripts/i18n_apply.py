"""Fill Arabic translations into the catalogue from JSON files (a development aid).

Usage: python scripts/i18n_apply.py src/minbar/locale/ar/LC_MESSAGES/django.po ar-*.json

Each JSON file maps msgid -> msgstr, or msgid -> {"plural": msgid_plural, "forms": [six
Arabic plural forms]}. Entries already translated are overwritten only when the JSON
says something different; fuzzy flags are dropped from entries it fills. Prints what
is still untranslated so nothing ships in English by accident.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    po = polib.pofile(argv[0])
    wanted: dict[str, object] = {}
    for name in argv[1:]:
        wanted.update(json.loads(Path(name).read_text(encoding="utf-8")))
    filled = 0
    for entry in po:
        value = wanted.get(entry.msgid)
        if value is None:
            continue
        if isinstance(value, dict):
            forms = value["forms"]
            entry.msgstr_plural = dict(enumerate(forms))
        else:
            entry.msgstr = str(value)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            entry.previous_msgctxt = None
        filled += 1
    po.save()
    missing = [
        e.msgid
        for e in po
        if not e.obsolete
        and (
            "fuzzy" in e.flags
            or (e.msgid_plural and not all(e.msgstr_plural.values()))
            or (not e.msgid_plural and not e.msgstr)
        )
    ]
    print(f"filled {filled}; still untranslated or fuzzy: {len(missing)}")
    for msgid in missing:
        print("  ", json.dumps(msgid, ensure_ascii=False))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
