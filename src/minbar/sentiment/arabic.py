"""Arabic: a lexicon and a few rules, written for Minbar (docs/sentiment.md).

Modern Standard Arabic and Gulf, Egyptian, Levantine and some Maghrebi words. A word is
normalized (tashkeel, tatweel, alef forms, ى, ة, elongation), looked up as written and then
with its clitics removed (و ف ب ك ل ال before, attached pronouns after). Negators flip the next
few words, intensifiers strengthen the word next to them, "لكن/بس" shift the weight to what comes
after, fixed phrases ("ولا غلطة", "قليل ذوق") are read whole. English words inside Arabic text
are scored with VADER's lexicon, emoji with the shared emoji table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from minbar.sentiment.lexicon import (
    arabic_lexicon,
    collapse_elongation,
    emoji_table,
    normalize_arabic,
)

Cue = tuple[str, float, bool]  # (the word or emoji as written, its weight, is an emoji)

# A word (Arabic letters with their diacritics, or Latin), a run of punctuation that ends a
# clause, or any other single visible character (emoji among them).
_TOKEN = re.compile(
    r"[\u0621-\u065f\u066e-\u06d3\u06d5-\u06ff\u0670]+"
    r"|[A-Za-z][A-Za-z'\-]*"
    r"|[0-9\u0660-\u0669]+"
    r"|[.!?;:,\u061f\u060c\u061b\n]+"
    r"|\S"
)
# Where emoji live; modifiers (skin tones, variation selectors) are left out, so each pictograph
# is found alone and looked up as is.
_EMOJI = re.compile(
    "[\U0001f000-\U0001f3fa\U0001f400-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]"
)
_BOUNDARY = frozenset(".!?;:,\u061f\u060c\u061b\n")

NEGATORS = frozenset(
    normalize_arabic(word)
    for word in [
        "ما",
        "مش",
        "مو",
        "مب",
        "موب",
        "مهوب",
        "لا",
        "ليس",
        "ليست",
        "لست",
        "لم",
        "لن",
        "غير",
        "بدون",
        "دون",
        "بلا",
        "مافي",
        "مافيش",
        "مافيه",
        "ماكو",
        "ماني",
        "مانيش",
        "مهو",
        "مهي",
        "ماهو",
        "ماهي",
        "ماشي",
        "مش",
        "مكنش",
    ]
)
ENGLISH_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "dont",
        "don't",
        "doesnt",
        "doesn't",
        "didnt",
        "didn't",
        "isnt",
        "isn't",
        "wasnt",
        "wasn't",
        "cant",
        "can't",
        "wont",
        "won't",
        "without",
    ]
)
INTENSIFIERS = frozenset(
    normalize_arabic(word)
    for word in [
        "جدا",
        "جداً",
        "كتير",
        "كثير",
        "وايد",
        "مره",
        "مرة",
        "مرا",
        "بزاف",
        "بزااف",
        "اوي",
        "أوي",
        "قوي",
        "خالص",
        "ابدا",
        "أبداً",
        "للغاية",
        "للغايه",
        "تماما",
        "تماماً",
        "حيل",
        "موت",
        "بالمره",
        "بالمرة",
    ]
)
ENGLISH_INTENSIFIERS = frozenset(
    ["very", "so", "really", "super", "too", "extremely", "totally", "soo"]
)
CONTRASTS = frozenset(normalize_arabic(w) for w in ["لكن", "ولكن", "لاكن", "بس", "but"])

# A negator reaches the first sentiment word among the next two words of its clause ("مش غالي
# والجودة حلوة": only غالي is negated; a word starting with the conjunction و opens a new clause).
NEGATION_WINDOW = 2
NEGATION_SCALAR = -0.8  # "مش حلو" is clearly negative, a bit weaker than "وحش"
INTENSIFIER_SCALAR = 1.3
ELONGATION_SCALAR = 1.2  # "حلوووو" is stronger than "حلو"

_PREFIXES = (
    "وبال",
    "وكال",
    "فبال",
    "وال",
    "فال",
    "بال",
    "كال",
    "ولل",
    "فلل",
    "لل",
    "ال",
    "وب",
    "ول",
    "وك",
    "فب",
    "فل",
    "و",
    "ف",
    "ب",
    "ل",
    "ك",
)
_SUFFIXES = (
    "تكم",
    "تكن",
    "تهم",
    "تها",
    "تنا",
    "تني",
    "كم",
    "كن",
    "هم",
    "ها",
    "نا",
    "ني",
    "وا",
    "ون",
    "ين",
    "ات",
    "ه",
    "ك",
    "ي",
    "ش",
)
_MIN_STEM = 2

_cache: dict[str, tuple[float, bool] | None] = {}
_CACHE_LIMIT = 100_000


def _stems(word: str) -> list[str]:
    """Candidate stems of a word with its clitics removed, most conservative first."""
    bases = [word]
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM:
            bases.append(word[len(prefix) :])
    stems = list(bases[1:])
    for base in bases:
        for suffix in _SUFFIXES:
            if base.endswith(suffix) and len(base) - len(suffix) >= _MIN_STEM:
                stem = base[: -len(suffix)]
                stems.append(stem)
                if stem.endswith("ت"):  # خدمتكم → خدمت → خدمه (the ة before a pronoun)
                    stems.append(stem[:-1] + "ه")
    return stems


def _lookup_uncached(word: str, words: Mapping[str, float]) -> tuple[float, bool] | None:
    if word in words:
        return words[word], False
    for stem in _stems(word):
        if stem in words:
            return words[stem], False
    # Two equal letters in a row are rarely written (there is a shadda for that): "حلوو".
    single = re.sub(r"(.)\1", r"\1", word)
    if single != word:
        found = _lookup_uncached(single, words)
        if found is not None:
            return found
    # Attached negation: Gulf "ماعجبني", Egyptian and Maghrebi "ماعجبنيش".
    if word.startswith("ما") and len(word) - 2 >= 3:
        core = word[2:]
        if core.endswith("ش") and len(core) > 3:
            core = core[:-1]
        found = _lookup_uncached(core, words)
        if found is not None:
            return found[0], not found[1]
    return None


def lookup(word: str) -> tuple[float, bool] | None:
    """(weight, negated inside the word) for a normalized Arabic word, or None."""
    try:
        return _cache[word]
    except KeyError:
        pass
    found = _lookup_uncached(word, arabic_lexicon()[0])
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[word] = found
    return found


def _phrase_at(norm: list[str], i: int) -> tuple[float, int] | None:
    phrases = arabic_lexicon()[1]
    for length in (4, 3, 2):
        if i + length > len(norm):
            continue
        key = tuple(norm[i : i + length])
        if key in phrases:
            return phrases[key], length
        first = key[0]
        if first.startswith("و") and len(first) > 2 and (first[1:], *key[1:]) in phrases:
            return phrases[(first[1:], *key[1:])], length
    return None


def score(
    text: str,
    *,
    latin: Mapping[str, float] | None = None,
    arabic_only: bool = False,
) -> tuple[float, list[Cue]]:
    """Raw valence (VADER scale) of the text and its cues, in reading order.

    `latin` is the lexicon for Latin-script words (VADER's); `arabic_only` skips everything but
    Arabic words, for the English path of a mixed text.
    """
    raw_tokens = _TOKEN.findall(text)
    norm = [normalize_arabic(token) for token in raw_tokens]
    emojis = emoji_table()

    values: list[float] = []  # one per cue
    cue_words: list[str] = []
    cue_pos: list[int] = []
    emoji_cue: list[bool] = []
    boosted: set[int] = set()
    negate_left = 0
    pending_boost_at = -10
    after_contrast = False

    def add(word: str, value: float, pos: int, *, is_emoji: bool = False) -> None:
        if pending_boost_at >= pos - 2:
            value *= INTENSIFIER_SCALAR
            boosted.add(len(values))
        if after_contrast:
            value *= 1.5
        values.append(value)
        cue_words.append(word)
        cue_pos.append(pos)
        emoji_cue.append(is_emoji)

    def boost_previous(pos: int) -> bool:
        index = len(values) - 1
        if index >= 0 and index not in boosted and cue_pos[index] >= pos - 2:
            values[index] *= INTENSIFIER_SCALAR
            boosted.add(index)
            return True
        return False

    i = 0
    n = len(norm)
    while i < n:
        token = norm[i]
        if not token:
            i += 1
            continue
        first = token[0]
        if "\u0621" <= first <= "\u06ff":
            phrase = _phrase_at(norm, i)
            if phrase is not None:
                weight, length = phrase
                add(" ".join(raw_tokens[i : i + length]), weight, i + length - 1)
                negate_left = 0
                i += length
                continue
            word = collapse_elongation(token)
            elongated = word != token
            bare = word[1:] if word.startswith("و") and len(word) > 2 else word
            if word in NEGATORS or bare in NEGATORS:
                negate_left = NEGATION_WINDOW
            elif word in INTENSIFIERS or bare in INTENSIFIERS:
                if not boost_previous(i):
                    pending_boost_at = i
            elif word in CONTRASTS:
                values[:] = [value * 0.5 for value in values]
                after_contrast = True
            else:
                found = lookup(word)
                if found is not None:
                    weight, negated = found
                    if negated != (negate_left > 0):
                        weight *= NEGATION_SCALAR
                    if elongated:
                        weight *= ELONGATION_SCALAR
                    add(raw_tokens[i], weight, i)
                    negate_left = 0
                elif word.startswith("و"):
                    negate_left = 0
                else:
                    negate_left = max(0, negate_left - 1)
        elif first.isascii() and first.isalpha():
            if not arabic_only:
                word = token
                if word in ENGLISH_NEGATORS:
                    negate_left = NEGATION_WINDOW
                elif word in ENGLISH_INTENSIFIERS:
                    if not boost_previous(i):
                        pending_boost_at = i
                elif word in CONTRASTS:
                    values[:] = [value * 0.5 for value in values]
                    after_contrast = True
                elif latin is not None and word in latin:
                    weight = latin[word]
                    if negate_left > 0:
                        weight *= NEGATION_SCALAR
                    add(raw_tokens[i], weight, i)
                    negate_left = 0
                else:
                    negate_left = max(0, negate_left - 1)
        elif first in _BOUNDARY:
            negate_left = 0
            pending_boost_at = -10
        elif not arabic_only and token in emojis:
            add(raw_tokens[i], emojis[token], i, is_emoji=True)
        i += 1

    return float(sum(values)), [
        (word, value, is_emoji)
        for word, value, is_emoji in zip(cue_words, values, emoji_cue, strict=True)
    ]


def emoji_score(text: str) -> tuple[float, list[Cue]]:
    """Only the emoji of a text (for a language with no lexicon, or next to VADER)."""
    emojis = emoji_table()
    cues: list[Cue] = []
    for char in _EMOJI.findall(text):
        if char in emojis:
            cues.append((char, emojis[char], True))
    return float(sum(value for _, value, _ in cues)), cues
