from __future__ import annotations

import dataclasses
import socket

import pytest

from minbar.sentiment import Sentiment, analyze, detect_language, english
from minbar.sentiment.lexicon import collapse_elongation, normalize_arabic


def label(text: str, language: str = "") -> str:
    return analyze(text, language).label


# --- English -------------------------------------------------------------------------------


def test_english_praise_is_positive_and_names_its_cues():
    result = analyze("I love this coffee shop 😍")
    assert result.label == "positive"
    assert result.language == "en"
    assert 0.05 <= result.score <= 1
    assert set(result.reasons) == {"love", "😍"}


def test_english_negation_flips_good():
    assert label("good") == "positive"
    assert label("not good") == "negative"
    assert label("The coffee was not good at all") == "negative"


def test_english_complaint_is_negative():
    result = analyze("Worst airline ever, they lost my luggage")
    assert result.label == "negative"
    assert result.score < -0.05
    assert "Worst" in result.reasons


def test_english_domain_words_added_to_vader_count():
    assert label("Overpriced and the fries were soggy") == "negative"


def test_english_plain_question_is_neutral():
    assert label("Is the offer valid for free delivery?") == "neutral"
    assert label("What time does the Marina branch open?") == "neutral"


def test_question_with_a_clear_complaint_stays_negative():
    assert label("Why is it so hard to talk to a real person?? 😩") == "negative"


# --- Arabic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "الخدمة حلوة",
        "المحل روعة",
        "الكيكة تحفة",
        "الأكل خرافي",
        "القهوة عندكم تجنن",
        "التوصيل ممتاز",
        "الماكلة بنينة بزاف",
        "المطعم ده جامد",
    ],
)
def test_arabic_praise_in_msa_and_dialects_is_positive(text):
    result = analyze(text)
    assert result.language == "ar"
    assert result.label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "خدمة العملاء زفت",
        "التطبيق سيء",
        "الأكل مقرف",
        "التجربة وحشة",
        "البطاطس خايسة",
        "الشبكة تعبانة",
        "الواي فاي فاشل",
        "هذا نصب",
        "السعر غالي",
    ],
)
def test_arabic_complaints_in_msa_and_dialects_are_negative(text):
    assert label(text) == "negative"


@pytest.mark.parametrize(
    ("positive", "negated"),
    [
        ("حلو", "مش حلو"),
        ("عجبني", "ما عجبني"),
        ("عجبني", "ماعجبني"),
        ("عجبني", "ماعجبنيش"),
        ("الخدمة ممتازة", "الخدمة مو ممتازة"),
        ("مريح", "غير مريح"),
        ("انصح فيه", "لا انصح فيه"),
    ],
)
def test_arabic_negation_flips_polarity(positive, negated):
    assert label(positive) == "positive"
    result = analyze(negated)
    assert result.label == "negative"


def test_arabic_negated_complaint_word_turns_positive():
    assert label("صراحة مو غالي") == "positive"
    assert label("والله ما ندمت") == "positive"


def test_arabic_negation_stops_at_the_next_clause():
    # Only غالي is negated; "والجودة حلوة" stays praise.
    assert label("مش غالي والجودة حلوة") == "positive"
    assert label("مش حلو، الخدمة ممتازة") == "positive"


def test_arabic_fixed_phrases_are_read_whole():
    assert label("ولا غلطة") == "positive"  # literally "not a single mistake"
    assert label("ما شاء الله عليكم") == "positive"
    assert label("ما قصرتوا") == "positive"
    assert label("الموظف قليل ذوق") == "negative"


def test_arabic_intensifier_makes_a_word_stronger():
    plain = analyze("حلو").score
    assert analyze("حلو جدا").score > plain
    assert analyze("حلوة مرة").score > plain
    assert analyze("كتير حلو").score > plain
    assert analyze("سيء جدا").score < analyze("سيء").score


def test_arabic_elongation_is_collapsed_and_counts_as_emphasis():
    assert collapse_elongation("حلوووو") == "حلو"
    assert collapse_elongation("مرررة") == "مرة"
    result = analyze("حلوووو")
    assert result.label == "positive"
    assert result.score > analyze("حلو").score
    assert result.reasons == ("حلوووو",)  # reasons show the word as written
    assert label("حلوو") == "positive"  # a doubled letter is tried once too


def test_arabic_normalization_of_diacritics_alef_and_ta_marbuta():
    assert normalize_arabic("أَحْلَى") == "احلي"
    assert normalize_arabic("إستـــفسار") == "استفسار"
    assert normalize_arabic("آسف") == "اسف"
    assert normalize_arabic("روعة") == "روعه"
    assert label("رَائِعَة") == "positive"
    assert label("الخدمة ممتــــازة") == "positive"


@pytest.mark.parametrize(
    "text",
    ["والخدمة ممتازة", "خدمتكم ممتازة", "بالتوفيق وبالجمال", "فممتاز", "والروعة"],
)
def test_arabic_clitics_are_removed_before_lookup(text):
    assert label(text) == "positive"


def test_arabic_attached_pronoun_after_ta_marbuta():
    # خدمتكم = خدمة + كم: the ة is written ت before a pronoun
    assert label("خدمتكم زفت") == "negative"
    assert label("غلطتكم") == "negative"


def test_arabic_question_is_neutral():
    assert label("هل يوجد توصيل إلى الدمام؟") == "neutral"
    assert label("متى يفتح الفرع؟") == "neutral"
    assert label("هل العرض حلو؟") == "neutral"


def test_arabic_contrast_weights_what_comes_after_but():
    assert label("الأكل حلو بس الخدمة زفت") == "negative"
    assert label("غالي شوي لكن يستاهل ويجنن") == "positive"


# --- Emoji, mixed text, detection, edge cases -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😍😍😍", "positive"),
        ("👍", "positive"),
        ("😡", "negative"),
        ("💔😭", "negative"),
        ("🤦🏽‍♀️", "negative"),  # skin tone and gender sign stripped
        ("❤️", "positive"),  # with variation selector
        ("☕", "neutral"),
    ],
)
def test_emoji_only_texts(text, expected):
    result = analyze(text)
    assert result.label == expected
    assert result.language == ""


def test_emoji_count_the_same_in_both_languages():
    assert analyze("🔥", "en").score == analyze("🔥", "ar").score > 0
    assert analyze("الطلب وصل 😡").label == "negative"


def test_mixed_arabic_text_with_english_words():
    result = analyze("love the new menu، الحلى عندكم رهيب")
    assert result.language == "ar"
    assert result.label == "positive"
    assert {"love", "رهيب"} <= set(result.reasons)
    assert label("خدمة top والتوصيل سريع") == "positive"
    assert label("the service was not good أبداً") == "negative"


def test_mixed_english_text_with_arabic_words():
    result = analyze("The delivery was late and the food was مقرف")
    assert result.language == "en"
    assert result.label == "negative"
    assert "مقرف" in result.reasons


def test_detect_language_by_script():
    assert detect_language("Hello there") == "en"
    assert detect_language("مرحبا بكم") == "ar"
    assert detect_language("اللاتيه عندكم great") == "ar"  # more Arabic letters
    assert detect_language("The latte at Beanery is great يا سلام") == "en"
    assert detect_language("😍 123") == ""


def test_language_hint_overrides_detection_and_region_is_dropped():
    assert analyze("حلو", "ar-EG").language == "ar"
    assert analyze("great", "EN").language == "en"


def test_language_without_a_lexicon_reads_only_emoji():
    result = analyze("Le service est excellent 😍", "fr")
    assert result.language == "fr"
    assert result.reasons == ("😍",)
    assert analyze("Le service est excellent", "fr").label == "neutral"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_neutral_zero(text):
    assert analyze(text) == Sentiment("neutral", 0.0, "", ())


def test_text_without_sentiment_is_neutral_with_no_reasons():
    for text in ("Order 4821 ships tomorrow", "طلبت لاتيه وكرواسون", "12345", "..."):
        result = analyze(text)
        assert result.label == "neutral", text
        assert result.reasons == ()


def test_score_stays_within_bounds_for_extreme_text():
    assert analyze("😍" * 500).score <= 1
    assert analyze("زفت " * 500).score >= -1
    assert analyze("terrible awful horrible!!!! " * 50).score >= -1


def test_result_is_frozen_and_deterministic():
    text = "الخدمة ممتازة بس التوصيل بطيء 😒 but the coffee is great"
    first = analyze(text)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.label = "negative"  # type: ignore[misc]
    assert all(analyze(text) == first for _ in range(20))


def test_reasons_are_short_and_match_the_label():
    result = analyze("Amazing staff, great coffee, lovely music, perfect wifi, superb cake 😍")
    assert result.label == "positive"
    assert 1 <= len(result.reasons) <= 3


def test_vader_lexicon_comes_from_the_installed_package_not_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("sentiment must not open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    english.analyzer.cache_clear()
    try:
        assert len(english.lexicon()) > 7000
        assert analyze("great", "en").label == "positive"
    finally:
        english.analyzer.cache_clear()
