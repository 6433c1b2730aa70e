"""Sentiment of short social-media texts, English and Arabic (docs/sentiment.md).

    >>> analyze("مش حلو أبداً").label
    'negative'

Pure functions over shipped data files: no model download, no database, no network. The inbox
stores the result and the user's corrections; this package only reads text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from minbar.sentiment import arabic, english
from minbar.sentiment.arabic import Cue
from minbar.sentiment.lexicon import normalize_score

__all__ = ["THRESHOLD", "Label", "Sentiment", "analyze", "detect_language"]

Label = Literal["positive", "neutral", "negative"]

# VADER's recommended cut-offs on the normalized score, used for both languages.
THRESHOLD = 0.05
MAX_REASONS = 3
QUESTION_SCALAR = 0.5
QUESTION_DEAD_ZONE = 1.25  # raw VADER-scale units, after QUESTION_SCALAR

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_QUESTION = ("?", "\u061f")


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: Label
    score: float  # in [-1, 1]; the sign gives the label beyond ±THRESHOLD
    language: str  # "en", "ar", the caller's language code, or "" when there is no text to read
    reasons: tuple[str, ...] = ()  # the strongest cues behind the label, as written


def detect_language(text: str) -> str:
    """ "ar" or "en" by script — whichever has more letters, Arabic on a tie — or "" if none."""
    arabic_letters = len(_ARABIC_LETTER.findall(text))
    latin_letters = len(_LATIN_LETTER.findall(text))
    if arabic_letters and arabic_letters >= latin_letters:
        return "ar"
    if latin_letters:
        return "en"
    return ""


def analyze(text: str, language: str = "") -> Sentiment:
    """Label and score one text. `language` ("en", "ar", "ar-EG"...) skips detection.

    Arabic text is read by the Minbar lexicon (English words inside it by VADER's lexicon);
    English text by VADER, plus the Arabic lexicon for any Arabic words in it; a language with
    no lexicon by its emoji only. Emoji count the same in every language.
    """
    if not text or not text.strip():
        return Sentiment("neutral", 0.0, language.split("-")[0].lower(), ())
    lang = language.split("-")[0].lower() or detect_language(text)
    cues: list[Cue]
    if lang == "ar":
        _, cues = arabic.score(text, latin=english.lexicon())
        words = sum(value for _, value, is_emoji in cues if not is_emoji)
    elif lang == "en":
        words, cues = english.score(text)
        cues += arabic.emoji_score(text)[1]
        if _ARABIC_LETTER.search(text):
            arabic_words, arabic_cues = arabic.score(text, arabic_only=True)
            words += arabic_words
            cues += arabic_cues
    else:
        words, cues = 0.0, arabic.emoji_score(text)[1]
    emoji = sum(value for _, value, is_emoji in cues if is_emoji)
    if any(mark in text for mark in _QUESTION):
        # A question about a product rarely judges it ("Is the offer valid?", "هل العرض حلو؟"):
        # its words count half, and not at all when they only lean faintly one way.
        words *= QUESTION_SCALAR
        if abs(words) < QUESTION_DEAD_ZONE:
            words = 0.0
        cues = [cue for cue in cues if cue[2] or words]
    return _verdict(words + emoji, cues, lang)


def _verdict(raw: float, cues: list[Cue], language: str) -> Sentiment:
    score = round(max(-1.0, min(1.0, normalize_score(raw))), 4)
    if score >= THRESHOLD:
        label: Label = "positive"
    elif score <= -THRESHOLD:
        label = "negative"
    else:
        return Sentiment("neutral", score, language, ())
    sign = 1 if label == "positive" else -1
    strongest = sorted((cue for cue in cues if cue[1] * sign > 0), key=lambda cue: -abs(cue[1]))
    reasons: list[str] = []
    for word, _, _ in strongest:
        if word not in reasons:
            reasons.append(word)
        if len(reasons) == MAX_REASONS:
            break
    return Sentiment(label, score, language, tuple(reasons))
