"""Counting a post the way Mastodon's server does (see ``minbar.connectors.mastodon.text``)."""

from __future__ import annotations

from minbar.connectors.mastodon import count_characters, limits_from_instance, validate_text
from minbar.connectors.mastodon.text import DEFAULT_LIMITS, media_rules, text_rules
from minbar.connectors.types import TextCounting


def test_english_up_to_the_limit_is_fine_and_over_it_says_by_how_much() -> None:
    assert validate_text("a" * 500) == []
    assert validate_text("a" * 512) == ["Mastodon: 512/500 characters (links count as 23)"]


def test_every_link_counts_as_23() -> None:
    long_link = "https://example.org/" + "p" * 200
    assert count_characters(long_link) == 23
    assert count_characters("http://x.io") == 23  # short links count 23 too
    text = "x" * 470 + " " + long_link
    assert count_characters(text) == 494
    assert validate_text(text) == []
    # Without its scheme a link is plain text, as on Mastodon.
    assert count_characters("example.org/" + "p" * 30) == 42


def test_punctuation_after_a_link_is_not_part_of_it() -> None:
    assert count_characters("see https://example.org/a.") == len("see ") + 23 + 1
    assert count_characters("(https://en.wikipedia.org/wiki/Mocha_(coffee))") == 1 + 23 + 1
    assert count_characters("«https://example.org/x»") == 1 + 23 + 1


def test_remote_mentions_count_only_the_name() -> None:
    assert count_characters("@alice@example.social hi") == len("@alice hi")
    assert count_characters("@alice hi") == len("@alice hi")
    # A profile link is a link, not a mention.
    assert count_characters("https://example.social/@alice") == 23
    # An e-mail address is not a mention either.
    assert count_characters("mail bob@example.social") == len("mail bob@example.social")


def test_arabic_counts_letters_not_code_points() -> None:
    # Mastodon counts grapheme clusters: a letter with its haraka is one character.
    assert count_characters("مرحبا") == 5
    assert count_characters("مَرْحَبًا") == 5  # 9 code points
    vowelled = "كَ" * 300  # 300 characters, 600 code points
    assert len(vowelled) == 600
    assert validate_text(vowelled) == []
    assert validate_text("ب" * 501) == ["Mastodon: 501/500 characters (links count as 23)"]
    mixed = "قهوة " * 95 + "https://example.org/" + "ق" * 100  # 475 + 23
    assert count_characters(mixed) == 498
    assert validate_text(mixed) == []


def test_emoji_sequences_are_one_character() -> None:
    assert count_characters("👨‍👩‍👧‍👦") == 1
    assert count_characters("🇯🇴") == 1
    assert count_characters("👍🏽") == 1


def test_the_content_warning_counts_too() -> None:
    assert count_characters("a" * 480, content_warning="Spoilers for the blend") == 502
    assert validate_text("a" * 480, content_warning="c" * 30) == [
        "Mastodon: 510/500 characters with the content warning (links count as 23)"
    ]


def test_instance_limits_replace_the_defaults() -> None:
    limits = {"max_characters": 5000, "characters_reserved_per_url": 30}
    assert validate_text("a" * 5000, limits) == []
    assert validate_text("a" * 5001, limits) == [
        "Mastodon: 5001/5000 characters (links count as 30)"
    ]
    assert count_characters("https://example.org", limits) == 30
    # Broken values fall back to Mastodon's defaults.
    assert validate_text("a" * 501, {"max_characters": "lots"}) == [
        "Mastodon: 501/500 characters (links count as 23)"
    ]


def test_limits_from_an_instance_document() -> None:
    instance = {
        "domain": "social.example",
        "configuration": {
            "statuses": {
                "max_characters": 1000,
                "max_media_attachments": 8,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": ["image/png", "video/mp4", "audio/mpeg"],
                "image_size_limit": 10_485_760,
                "video_size_limit": 41_943_040,
                "description_limit": 2000,
                "video_frame_rate_limit": 60,
            },
        },
    }
    limits = limits_from_instance(instance)
    assert limits["max_characters"] == 1000
    assert limits["max_media_attachments"] == 8
    assert limits["description_limit"] == 2000
    assert limits["supported_mime_types"] == ["image/png", "video/mp4", "audio/mpeg"]
    assert limits["image_size_limit"] == 10_485_760
    assert limits["video_frame_rate_limit"] == 60
    assert limits_from_instance({}) == DEFAULT_LIMITS  # an older or odd server

    rules = text_rules(limits)
    assert (rules.max_length, rules.url_length) == (1000, 23)
    assert rules.counting == TextCounting.GRAPHEMES
    media = media_rules(limits)
    assert media.image_types == ("image/png",)
    assert media.video_types == ("video/mp4",)
    assert (media.max_images, media.max_videos) == (8, 1)
    assert media.alt_text and media.alt_text_max_length == 2000
    assert not media.mix_images_and_video
