from __future__ import annotations

import pytest

from minbar.sentiment import analyze
from minbar.sentiment.corrections import Correction, parse_label, summarize, to_tsv


def test_parse_label_accepts_the_three_labels_in_any_case():
    assert parse_label(" Positive ") == "positive"
    assert parse_label("NEUTRAL") == "neutral"
    assert parse_label("negative") == "negative"


@pytest.mark.parametrize("value", ["", "good", "mixed", "pos"])
def test_parse_label_rejects_anything_else(value):
    with pytest.raises(ValueError, match="unknown sentiment label"):
        parse_label(value)


def test_summary_counts_corrections_per_language_and_direction():
    corrections = [
        Correction("ar", "positive", "negative", "شكراً على التأخير الرائع"),
        Correction("ar", "neutral", "negative", "انسحب المبلغ مرتين"),
        Correction("ar", "neutral", "negative", "الصراف سحب البطاقة"),
        Correction("en", "positive", "negative", "great job... not"),
        Correction("en", "neutral", "neutral", "Is the store open?"),  # confirmed, not corrected
    ]
    summary = summarize(corrections)
    assert set(summary) == {"ar", "en"}
    assert summary["ar"].total == 3
    assert summary["ar"].by_change == {("positive", "negative"): 1, ("neutral", "negative"): 2}
    assert summary["ar"].polarity_flips == 1
    assert summary["en"].total == 1
    assert summary["en"].polarity_flips == 1


def test_summary_of_no_corrections_is_empty():
    assert summarize([]) == {}


def test_corrections_export_as_dev_set_rows_last_one_wins():
    text = "great job...\tnot"
    corrections = [
        Correction("en", "positive", "neutral", text),
        Correction("en", "positive", "negative", text),
        Correction("en", "neutral", "negative", "My bill\ndoubled"),
        Correction("ar", "neutral", "negative", "انسحب المبلغ مرتين"),
        Correction("en", "neutral", "positive", ""),
    ]
    assert to_tsv(corrections, "en") == ("negative\tgreat job... not\nnegative\tMy bill doubled\n")
    assert to_tsv(corrections, "ar") == "negative\tانسحب المبلغ مرتين\n"


def test_a_correction_records_what_analyze_said():
    text = "شكراً على التأخير الرائع"  # sarcasm, which the analyzer does not attempt
    predicted = analyze(text)
    correction = Correction(predicted.language, predicted.label, "negative", text)
    assert summarize([correction])["ar"].by_change == {("positive", "negative"): 1}
