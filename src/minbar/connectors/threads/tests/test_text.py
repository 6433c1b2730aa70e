"""Threads' counting: 500 characters, emoji as their UTF-8 bytes (posts#limitations)."""

from __future__ import annotations

from minbar.connectors.threads import count_characters, links_in, text_problems


def test_letters_of_any_script_count_one() -> None:
    assert count_characters("hello") == 5
    assert count_characters("مرحبا") == 5
    # Harakat join their letter: one user-perceived character each.
    assert count_characters("مَرْحَبًا") == 5


def test_emoji_count_their_utf8_bytes() -> None:
    assert count_characters("😀") == 4
    assert count_characters("❤️") == len("❤️".encode())  # heart + variation selector: 6
    assert count_characters("👍🏽") == 8
    assert count_characters("🇸🇦") == 8
    assert count_characters("👨‍👩‍👧") == len("👨‍👩‍👧".encode())
    assert count_characters("سلام 😀") == 5 + 4


def test_the_limit_and_its_message() -> None:
    assert text_problems("a" * 500) == []
    assert text_problems("a" * 496 + "😀") == []
    [problem] = text_problems("ب" * 497 + "😀")
    assert "501/500" in problem and "emoji" in problem


def test_links_are_counted_once_and_the_attachment_adds_one() -> None:
    assert links_in("see https://a.org and www.b.org.", "https://a.org") == [
        "https://a.org",
        "www.b.org",
    ]
    assert links_in("x", "https://c.org") == ["https://c.org"]
    five = " ".join(f"https://e.org/{i}" for i in range(5))
    assert text_problems(five) == []
    assert "6 links" in text_problems(five, link_attachment="https://other.org")[0]
