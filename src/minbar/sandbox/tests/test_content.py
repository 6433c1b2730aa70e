"""Reading posts: language, topics, hashtags, links, climate words and X's weighted length."""

from __future__ import annotations

import random

from minbar.sandbox import content


def test_language_detection():
    assert content.detect_language("Fresh coffee today") == "en"
    assert content.detect_language("قهوة طازجة اليوم") == "ar"
    assert content.detect_language("قهوة طازجة https://example.com/fresh-coffee-today") == "ar"
    assert content.detect_language("") == "en"


def test_topics_in_english_arabic_and_hashtags():
    assert content.topics_of(content.topic_mask("Our new espresso blend")) == ["coffee"]
    assert content.topics_of(content.topic_mask("Weekend #travel and #ColdBrew")) == [
        "coffee",
        "travel",
    ]
    # Arabic with the article and attached prefixes, and letter variants.
    assert "coffee" in content.topics_of(content.topic_mask("وصلت القهوة الجديدة"))
    assert "coffee" in content.topics_of(content.topic_mask("#قهوة_مختصة"))
    assert "football" in content.topics_of(content.topic_mask("مباراة الليلة"))
    assert content.topic_mask("Nothing in particular") == 0


def test_climate_words():
    assert content.climate_of("Try our iced latte this summer") == "hot"
    assert content.climate_of("A warm cup for a snowy winter day") == "cold"
    assert content.climate_of("لاتيه مثلج بارد") == "hot"
    assert content.climate_of("Just coffee") == ""


def test_hashtags_mentions_and_urls():
    text = "Hello @oasis_coffee! #coffee #قهوة see https://oasis.example/menu, and http://x.test)."
    assert content.hashtags(text) == ["coffee", "قهوة"]
    assert content.mentions(text) == ["oasis_coffee"]
    assert content.urls(text) == ["https://oasis.example/menu", "http://x.test"]


def test_x_weighted_length():
    assert content.weighted_length("hello") == 5
    assert content.weighted_length("مرحبا") == 5  # Arabic counts 1 like Latin
    assert content.weighted_length("日本") == 4  # CJK counts 2
    assert content.weighted_length("👍🏽") == 2  # an emoji sequence counts 2
    assert content.weighted_length("see https://example.com/a/very/long/path") == 4 + 23
    # X's own rules (minbar.connectors.x.text): links without https:// count 23 too,
    # a family emoji joined by zero-width joiners counts 2, © is text (1).
    assert content.weighted_length("shop at oasis.coffee/menu") == 8 + 23
    assert content.weighted_length("👨‍👩‍👧‍👦") == 2
    assert content.weighted_length("©") == 1


def test_x_flavour_counts_like_the_composer():
    from minbar.connectors.x import XConnector
    from minbar.publishing.validation import text_length
    from minbar.sandbox import actions
    from minbar.sandbox.flavours import Flavour, spec_for

    x_like = spec_for(Flavour.X)
    for text in (
        "قهوة اليوم ☕ oasis.coffee",
        "日本語 👍🏽 https://example.com/" + "a" * 80,
        "e\u0301" * 5,
    ):
        assert actions.text_length(x_like, text) == text_length(text, XConnector.capabilities)


def test_generated_texts_are_varied_and_fill_every_slot():
    rng = random.Random(1)
    coffee = content.INTERESTS[content.INTEREST_INDEX["coffee"]]
    seen = set()
    for language in ("en", "ar"):
        for sentiment in ("positive", "neutral", "negative"):
            for table in (content.COMMENTS, content.MENTIONS, content.MESSAGES, content.CHATTER):
                for _ in range(20):
                    text = content.write(
                        rng,
                        table,
                        language=language,
                        sentiment=sentiment,
                        interest=coffee,
                        city="Riyadh",
                        handle="@oasis",
                    )
                    assert text and "{" not in text and "}" not in text
                    if language == "ar":
                        assert content.detect_language(text.replace("@oasis", "")) == "ar"
                    seen.add(text)
    assert len(seen) > 150
