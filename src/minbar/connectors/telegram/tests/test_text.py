"""Counting, escaping and reading what people paste into the connect form."""

from __future__ import annotations

import pytest

from minbar.connectors.errors import Rejected
from minbar.connectors.telegram import TelegramConnector
from minbar.connectors.telegram.chats import chat_reference
from minbar.connectors.telegram.text import (
    MAX_CAPTION,
    MAX_TEXT,
    escape_html,
    text_problems,
    utf16_length,
    with_link,
)
from minbar.connectors.types import TextCounting
from minbar.publishing.validation import text_length


def test_arabic_letters_count_one_utf16_unit_each_emoji_two() -> None:
    assert utf16_length("مرحبا") == 5
    assert utf16_length("سَلام") == 5  # a haraka is a code unit of its own
    assert utf16_length("😀") == 2
    assert utf16_length("👍🏽") == 4
    assert utf16_length("a&b") == 3


def test_the_composer_counts_like_the_connector() -> None:
    caps = TelegramConnector.capabilities
    assert caps.text.counting == TextCounting.UTF16
    assert caps.text.max_length == MAX_TEXT == 4096
    text = "عرض خاص 🎉 " * 10
    assert text_length(text, caps) == utf16_length(text)


def test_escaping_keeps_what_was_written() -> None:
    assert escape_html("a <b> & c > d") == "a &lt;b&gt; &amp; c &gt; d"
    assert escape_html('"quoted"') == '"quoted"'


def test_a_caption_has_1024_units_and_a_message_4096() -> None:
    caption = "😀" * 513  # 1026 units
    assert text_problems(caption, caption=False) == []
    problems = text_problems(caption, caption=True)
    assert problems and f"1026/{MAX_CAPTION}" in problems[0]
    assert text_problems("x" * 4097, caption=False)[0].startswith("Telegram: 4097/4096")
    assert "cannot be empty" in text_problems("  ", caption=False)[0]
    assert text_problems("", caption=True) == []


def test_a_link_is_added_to_a_caption_only_once() -> None:
    assert with_link("Sale", "https://x.example/a") == "Sale\n\nhttps://x.example/a"
    assert with_link("See https://x.example/a", "https://x.example/a") == "See https://x.example/a"
    assert with_link("", "https://x.example/a") == "https://x.example/a"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("@brandnews", "@brandnews"),
        ("brandnews", "@brandnews"),
        ("https://t.me/brandnews", "@brandnews"),
        ("t.me/brandnews/42", "@brandnews"),
        ("https://t.me/c/1234567890/5", -1001234567890),
        ("-1001234567890", -1001234567890),
    ],
)
def test_the_chat_can_be_named_in_the_ways_people_paste_it(typed: str, expected: object) -> None:
    assert chat_reference(typed) == expected


@pytest.mark.parametrize("typed", ["https://t.me/+AbCdEf123", "t.me/joinchat/AAAA", "@a b", ""])
def test_invite_links_and_nonsense_get_a_clear_refusal(typed: str) -> None:
    with pytest.raises(Rejected) as caught:
        chat_reference(typed)
    assert caught.value.message
