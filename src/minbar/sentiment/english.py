"""English: VADER (vaderSentiment, MIT), its lexicon read from the installed wheel.

VADER's own `polarity_scores` turns each emoji into its English description character by
character, which is a third of its cost; Minbar scores emoji from its own table instead (the same
table the Arabic analyzer uses), so emoji are cut out before VADER sees the text.
"""

from __future__ import annotations

import functools
import re

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    SentimentIntensityAnalyzer,
    SentiText,
)

from minbar.sentiment.lexicon import english_additions

Cue = tuple[str, float, bool]  # (word, weight, is an emoji): never an emoji here

# Pictographs and dingbats, plus the modifiers that glue emoji sequences together.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\U0001f3fb-\U0001f3ff]"
)


class _Vader(SentimentIntensityAnalyzer):
    """VADER's scoring loop, returning the raw valence sum and the words that carried it."""

    def raw(self, text: str) -> tuple[float, list[Cue]]:
        sentitext = SentiText(text)
        words = sentitext.words_and_emoticons
        lexicon = self.lexicon
        # Fast path: no word VADER knows means VADER's sum is 0 (every rule it applies scales a
        # lexicon word's valence); most questions and plain statements stop here.
        if not any(word.lower() in lexicon for word in words):
            return 0.0, []
        sentiments: list[float] = []
        for i, item in enumerate(words):
            lowered = item.lower()
            if lowered in BOOSTER_DICT or (
                lowered == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"
            ):
                sentiments.append(0.0)
                continue
            sentiments = self.sentiment_valence(0.0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        total = float(sum(sentiments))
        emphasis = self._punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        cues = [(word, value, False) for word, value in zip(words, sentiments, strict=True)]
        return total, [cue for cue in cues if cue[1]]


@functools.cache
def analyzer() -> _Vader:
    """One analyzer per process: building it parses VADER's 7,500-word lexicon (~30 ms)."""
    vader = _Vader()
    for word, weight in english_additions().items():
        vader.lexicon.setdefault(word, weight)
    return vader


def lexicon() -> dict[str, float]:
    return analyzer().lexicon


def score(text: str) -> tuple[float, list[Cue]]:
    """Raw VADER valence of the text with emoji removed (emoji are scored by the caller)."""
    return analyzer().raw(EMOJI.sub(" ", text))
