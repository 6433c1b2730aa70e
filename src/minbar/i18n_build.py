"""Compile the translation catalogues (.po → .mo) without GNU gettext.

Users need only Python; msgfmt is a developer tool, so Minbar compiles its
own catalogues with polib when they are missing or older than the source.
"""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def compile_catalogues(force: bool = False) -> list[Path]:
    written: list[Path] = []
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_catalogues(force=True):
        print(f"compiled {path}")
