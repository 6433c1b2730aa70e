"""What the inbox needs around a person's correction of a label (docs/sentiment.md).

The inbox stores corrections (who, when, which item); this module only validates a label, counts
corrections per language and direction, and turns them into rows for the development sets, where
the lexicon is tuned. It never changes the lexicon by itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from minbar.sentiment import Label

LABELS: tuple[Label, ...] = ("positive", "neutral", "negative")


def parse_label(value: str) -> Label:
    """A label as the inbox receives it from a form or the API; ValueError when unknown."""
    cleaned = value.strip().lower()
    if cleaned not in LABELS:
        raise ValueError(f"unknown sentiment label {value!r}; expected one of {', '.join(LABELS)}")
    return cleaned


@dataclass(frozen=True, slots=True)
class Correction:
    language: str
    predicted: Label
    corrected: Label
    text: str = ""


@dataclass(frozen=True)
class CorrectionSummary:
    language: str
    total: int
    # (predicted, corrected) → how many times; "positive → negative" is the costly kind
    by_change: dict[tuple[Label, Label], int] = field(default_factory=dict)

    @property
    def polarity_flips(self) -> int:
        """Corrections from one polarity to the other, skipping neutral."""
        return self.by_change.get(("positive", "negative"), 0) + self.by_change.get(
            ("negative", "positive"), 0
        )


def summarize(corrections: Iterable[Correction]) -> dict[str, CorrectionSummary]:
    """Corrections counted per language; a "correction" to the same label is not one."""
    changes: dict[str, Counter[tuple[Label, Label]]] = {}
    for correction in corrections:
        if correction.predicted == correction.corrected:
            continue
        language = correction.language or ""
        changes.setdefault(language, Counter())[(correction.predicted, correction.corrected)] += 1
    return {
        language: CorrectionSummary(language, sum(counter.values()), dict(counter))
        for language, counter in sorted(changes.items())
    }


def to_tsv(corrections: Iterable[Correction], language: str) -> str:
    """`label<TAB>text` rows for eval/dev_<language>.tsv, one per distinct corrected text.

    The last correction of a text wins (people change their minds); tabs and line breaks in the
    text become spaces, as the file has one text a line.
    """
    latest: dict[str, Label] = {}
    for correction in corrections:
        if correction.language != language:
            continue
        text = " ".join(correction.text.split())
        if text:
            latest.pop(text, None)
            latest[text] = correction.corrected
    return "".join(f"{label}\t{text}\n" for text, label in latest.items())
