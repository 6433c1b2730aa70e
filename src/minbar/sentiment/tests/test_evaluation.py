from __future__ import annotations

import pytest

from minbar.sentiment import evaluate
from minbar.sentiment.lexicon import arabic_lexicon, emoji_table, english_additions

# Measured on the held-out sets when they were written (docs/sentiment.md): English macro-F1
# 0.907, Arabic 0.942. The floors leave a margin so a lexicon edit that moves a few texts passes,
# and a regression (a broken rule, a lost data file) does not.
MACRO_F1_FLOOR = {"en": 0.85, "ar": 0.88}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_evaluation_set_is_large_balanced_and_well_formed(language):
    rows = evaluate.load(language)
    assert len(rows) >= 220
    for name in evaluate.LABELS:
        share = sum(1 for label, _ in rows if label == name) / len(rows)
        assert 0.25 <= share <= 0.42, name
    assert len({text for _, text in rows}) == len(rows), "duplicate texts"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_dev_and_evaluation_sets_do_not_overlap(language):
    held_out = {text for _, text in evaluate.load(language)}
    dev = {text for _, text in evaluate.load(f"dev_{language}")}
    assert len(dev) >= 50
    assert not held_out & dev


@pytest.mark.parametrize("language", ["en", "ar"])
def test_macro_f1_on_the_held_out_set_stays_above_its_floor(language):
    result = evaluate.evaluate(evaluate.load(language), language)
    assert result.macro_f1 >= MACRO_F1_FLOOR[language]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_analyzer_beats_both_baselines(language):
    rows = evaluate.load(language)
    counts = {name: sum(1 for label, _ in rows if label == name) for name in evaluate.LABELS}
    majority = max(counts, key=lambda name: counts[name])
    ours = evaluate.evaluate(rows, language).macro_f1
    assert ours > evaluate.evaluate(rows, language, evaluate.always(majority)).macro_f1 + 0.3
    emoji = evaluate.evaluate(rows, language, lambda text, _lang: evaluate.emoji_only(text))
    assert ours > emoji.macro_f1 + 0.2


def test_report_computes_precision_recall_and_confusion():
    gold = ["positive", "positive", "neutral", "negative"]
    predicted = ["positive", "neutral", "neutral", "positive"]
    result = evaluate.report(gold, predicted)
    assert result.n == 4
    assert result.accuracy == 0.5
    assert result.precision["positive"] == 0.5
    assert result.recall["positive"] == 0.5
    assert result.recall["negative"] == 0.0
    assert result.precision["neutral"] == 0.5
    assert result.confusion["negative"]["positive"] == 1
    assert result.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0) / 3)


def test_evaluate_script_prints_figures_and_baselines(capsys):
    assert evaluate.main([]) == 0
    out = capsys.readouterr().out
    for needle in ("en (en.tsv): n=", "ar (ar.tsv): n=", "macro-F1", "baseline: emoji only"):
        assert needle in out
    assert "confusion" in out


def test_shipped_lexicons_are_sizeable_and_on_the_vader_scale():
    words, phrases = arabic_lexicon()
    assert len(words) + len(phrases) >= 500
    weights = [*words.values(), *phrases.values(), *emoji_table().values()]
    weights += english_additions().values()
    assert all(-4 <= weight <= 4 for weight in weights)
    assert sum(1 for weight in words.values() if weight > 0) >= 150
    assert sum(1 for weight in words.values() if weight < 0) >= 150
