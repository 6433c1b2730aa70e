"""A post's text as a Pin's title and description, counted the way Minbar checks it."""

from __future__ import annotations

from minbar.connectors.pinterest import (
    CONNECTOR,
    count_characters,
    text_problems,
    title_and_description,
)
from minbar.publishing.validation import text_length


def test_the_first_line_is_the_title_when_there_is_more_text() -> None:
    assert title_and_description("Lemon tart\n\nBright and simple.") == (
        "Lemon tart",
        "Bright and simple.",
    )


def test_a_single_line_is_only_the_description() -> None:
    assert title_and_description("  Just this  ") == ("", "Just this")


def test_a_first_line_over_100_characters_stays_in_the_description() -> None:
    text = "x" * 101 + "\nmore"
    assert title_and_description(text) == ("", text)


def test_arabic_with_harakat_counts_each_mark_like_the_composer() -> None:
    text = "مَرْحَبًا بِكُم"  # letters with harakat: every code point counts
    assert count_characters(text) == len(text) == 15
    assert text_length(text, CONNECTOR.capabilities) == 15
    title, description = title_and_description(f"وصفة اليوم\n{text}")
    assert (title, description) == ("وصفة اليوم", text)


def test_emoji_count_one_each_and_a_full_description_fits() -> None:
    assert count_characters("🍋🍰") == 2
    assert text_problems("🍋" * 500) == []
    assert text_problems("🍋" * 501) == [
        "Pinterest: the description is 501 characters; at most 500."
    ]


def test_a_long_link_is_refused() -> None:
    problems = text_problems("Hi", "https://example.test/" + "a" * 2048)
    assert problems and "at most 2,048" in problems[0]
