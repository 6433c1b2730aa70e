"""Data files shipped with the package: the Arabic lexicon, the emoji table, English additions.

Everything is read from the installed package (importlib.resources), once per process; nothing
is ever fetched at run time.
"""

from __future__ import annotations

import functools
import math
import re
from importlib import resources

# VADER's normalisation: a raw sum s becomes s / sqrt(s² + alpha), in (-1, 1).
ALPHA = 15.0

# Removed from every word before lookup: Arabic diacritics (tashkeel), the tatweel, and the emoji
# modifiers (variation selector, zero-width joiner, skin tones, gender signs) so that one table
# row covers every variant of an emoji.
_DROPPED = (
    [chr(c) for c in range(0x0610, 0x061B)]
    + [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670", "\u0640"]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
    + ["\ufe0f", "\ufe0e", "\u200d", "\u200c", "\u200f", "\u200e", "\u2640", "\u2642"]
    + [chr(c) for c in range(0x1F3FB, 0x1F400)]
)
_MAPPED = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": ""}
NORMALIZE_TABLE = str.maketrans({**dict.fromkeys(_DROPPED, None), **_MAPPED})

_ELONGATED = re.compile(r"(.)\1{2,}")


def normalize_arabic(word: str) -> str:
    """Drop tashkeel and tatweel, unify alef forms, ى→ي and ة→ه; lower-case Latin letters."""
    return word.translate(NORMALIZE_TABLE).lower()


def collapse_elongation(word: str) -> str:
    """ "حلوووو" → "حلو": a letter repeated three times or more is written once."""
    return _ELONGATED.sub(r"\1", word)


def normalize_score(raw: float) -> float:
    return raw / math.sqrt(raw * raw + ALPHA)


def _rows(name: str) -> list[tuple[str, float]]:
    text = resources.files("minbar.sentiment").joinpath("data", name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, weight = line.split("\t")
        rows.append((term, float(weight)))
    return rows


@functools.cache
def arabic_lexicon() -> tuple[dict[str, float], dict[tuple[str, ...], float]]:
    """(words, phrases), keys normalized; a phrase is a tuple of normalized words."""
    words: dict[str, float] = {}
    phrases: dict[tuple[str, ...], float] = {}
    for term, weight in _rows("ar_lexicon.tsv"):
        parts = tuple(normalize_arabic(part) for part in term.split())
        if len(parts) == 1:
            words[parts[0]] = weight
        else:
            phrases[parts] = weight
    return words, phrases


@functools.cache
def emoji_table() -> dict[str, float]:
    return {normalize_arabic(emoji): weight for emoji, weight in _rows("emoji.tsv")}


@functools.cache
def english_additions() -> dict[str, float]:
    return dict(_rows("en_extra.tsv"))
