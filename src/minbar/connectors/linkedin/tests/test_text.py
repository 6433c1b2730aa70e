"""LinkedIn's little text escaping and the length counting (UTF-16 code units)."""

from __future__ import annotations

import pytest

from minbar.connectors.linkedin import LinkedInConnector
from minbar.connectors.linkedin.text import (
    escape_little,
    from_commentary,
    post_text_problems,
    to_commentary,
    utf16_length,
)
from minbar.publishing.validation import text_length


@pytest.mark.parametrize("char", list("\\|{}@[]()<>#*_~"))
def test_every_reserved_character_is_escaped(char: str) -> None:
    assert escape_little(f"a{char}b") == f"a\\{char}b"


def test_hashtags_become_the_documented_template() -> None:
    assert to_commentary("New #TeaTime!") == "New {hashtag|\\#|TeaTime}!"
    assert to_commentary("no#tag here") == "no\\#tag here"  # not a hashtag: escaped
    assert to_commentary("C# and #") == "C\\# and \\#"


def test_round_trip_keeps_the_text() -> None:
    for text in ("(1) [2] {3} <4> a_b*c~d|e\\f @g #h", "مرحبا #شاي_أخضر 🍵", ""):
        assert from_commentary(to_commentary(text)) == text


def test_arabic_and_emoji_are_counted_as_linkedin_counts_them() -> None:
    caps = LinkedInConnector.capabilities
    arabic = "شاي أخضر"  # 8 code units
    emoji = "🍵😀"  # 2 code units each (outside the BMP)
    assert utf16_length(arabic) == 8 and text_length(arabic, caps) == 8
    assert utf16_length(emoji) == 4 and text_length(emoji, caps) == 4
    assert post_text_problems("ش" * 3000) == []
    assert post_text_problems("ش" * 2999 + "😀") == ["LinkedIn: 3001/3000 characters."]
