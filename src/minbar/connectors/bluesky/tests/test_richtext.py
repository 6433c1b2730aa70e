"""Text rules against the official lexicons and atproto's own test vectors.

``conformance/`` holds, unchanged, the ``app.bsky.feed.post`` and
``app.bsky.richtext.facet`` lexicons and vectors extracted from atproto's tests
(``packages/api/tests/rich-text.test.ts``, ``packages/lex/lex-data/src/utf8-grapheme-len.test.ts``),
MIT/Apache-2.0, see ``conformance/LICENSE-atproto.txt``. Facets are byte ranges of the
UTF-8 text: https://docs.bsky.app/docs/advanced-guides/post-richtext
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.bluesky import BlueskyConnector
from minbar.connectors.bluesky.richtext import (
    MAX_BYTES,
    MAX_GRAPHEMES,
    MAX_TAG_BYTES,
    MAX_TAG_GRAPHEMES,
    Facet,
    detect_facets,
    facet_records,
    graphemes,
    utf8_length,
    utf16_to_utf8_index,
    validate_text,
)
from minbar.connectors.types import TextCounting

CONFORMANCE = Path(__file__).resolve().parent / "conformance"


def _load(name: str) -> Any:
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


VECTORS = _load("vectors-from-atproto-tests.json")
POST_LEXICON = _load("app.bsky.feed.post.json")
FACET_LEXICON = _load("app.bsky.richtext.facet.json")


def test_the_licence_travels_with_the_vectors() -> None:
    licence = (CONFORMANCE / "LICENSE-atproto.txt").read_text()
    assert "MIT" in licence and "Apache" in licence
    assert "MIT OR Apache-2.0" in VECTORS["_source"]


@pytest.mark.parametrize("vector", VECTORS["lengths"], ids=lambda v: repr(v["text"])[:30])
def test_length_vectors(vector: dict[str, Any]) -> None:
    assert graphemes(vector["text"]) == vector["graphemes"]
    if "utf8Bytes" in vector:
        assert utf8_length(vector["text"]) == vector["utf8Bytes"]


def test_utf16_facet_offsets_become_utf8_byte_offsets() -> None:
    case = VECTORS["utf16_to_utf8_facets"]
    converted = [
        [utf16_to_utf8_index(case["text"], start), utf16_to_utf8_index(case["text"], end)]
        for start, end in case["utf16"]
    ]
    assert converted == case["utf8"]


def test_capabilities_match_the_post_lexicon() -> None:
    text = POST_LEXICON["defs"]["main"]["record"]["properties"]["text"]
    rules = BlueskyConnector.capabilities.text
    assert (rules.max_length, rules.max_bytes) == (text["maxGraphemes"], text["maxLength"])
    assert (text["maxGraphemes"], text["maxLength"]) == (MAX_GRAPHEMES, MAX_BYTES)
    assert rules.counting == TextCounting.GRAPHEMES
    tag = FACET_LEXICON["defs"]["tag"]["properties"]["tag"]
    assert (tag["maxGraphemes"], tag["maxLength"]) == (MAX_TAG_GRAPHEMES, MAX_TAG_BYTES)


# -- validate_text -------------------------------------------------------------


def test_text_at_the_limits_is_fine() -> None:
    assert validate_text("a" * 300) == []
    assert validate_text("") == []
    # 300 family emoji: 300 graphemes but 7,500 bytes.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467"
    assert graphemes(family * 120) == 120
    assert validate_text(family * 120) == []  # 3,000 bytes exactly


def test_too_many_characters() -> None:
    assert validate_text("a" * 301) == ["Bluesky: 301/300 characters"]


def test_too_many_bytes() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f467"  # 25 bytes, 1 grapheme
    text = family * 120 + "abcdefghijkl"  # 3,012 bytes, 132 graphemes
    assert validate_text(text) == ["Bluesky: 3,012/3,000 bytes"]


def test_both_limits_are_reported() -> None:
    assert validate_text("\U0001f600" * 1001) == [
        "Bluesky: 1,001/300 characters",
        "Bluesky: 4,004/3,000 bytes",
    ]


def test_arabic_counts_letters_as_graphemes_and_two_bytes_each() -> None:
    word = "مرحبا"  # 5 letters, 2 bytes each
    assert (graphemes(word), utf8_length(word)) == (5, 10)
    # Harakat belong to their letter: still 5 graphemes, now 18 bytes.
    vowelled = "مَرْحَبًا"
    assert (graphemes(vowelled), utf8_length(vowelled)) == (5, 18)
    assert validate_text("م" * 300) == []  # 600 bytes: only the grapheme limit matters
    assert validate_text("م" * 301) == ["Bluesky: 301/300 characters"]
    assert validate_text("مَّ" * 300) == []  # letter + fatha + shadda: 300 graphemes, 1,800 bytes


def test_arabic_with_many_marks_hits_the_byte_limit_first() -> None:
    # A letter carrying five marks (fatha, shadda, dagger alef, maddah, hamza): 1 grapheme,
    # 12 bytes. 251 of them fit the 300 graphemes but not the 3,000 bytes.
    heavy = "م\u064e\u0651\u0670\u0653\u0654"
    assert (graphemes(heavy), utf8_length(heavy)) == (1, 12)
    assert validate_text(heavy * 250) == []
    assert validate_text(heavy * 251) == ["Bluesky: 3,012/3,000 bytes"]
    assert validate_text(heavy * 301) == [
        "Bluesky: 301/300 characters",
        "Bluesky: 3,612/3,000 bytes",
    ]


# -- facets ----------------------------------------------------------------------


def _spans(text: str) -> list[tuple[str, str, str]]:
    data = text.encode("utf-8")
    return [
        (facet.kind, data[facet.start : facet.end].decode("utf-8"), facet.value)
        for facet in detect_facets(text)
    ]


def test_facets_from_the_docs_example() -> None:
    # https://docs.bsky.app/docs/advanced-guides/posts ("Mentions and links")
    text = "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR."
    facets = detect_facets(text)
    assert [(f.kind, f.start, f.end) for f in facets] == [
        ("mention", 23, 35),
        ("link", 74, 108),
    ]
    assert facets[1].value == "https://en.wikipedia.org/wiki/CBOR"


def test_links_mentions_and_tags_in_english() -> None:
    text = "Hi @alice.test! Read https://example.com/a?b=1, (see example.org) #launch #2024 #v2."
    assert _spans(text) == [
        ("mention", "@alice.test", "alice.test"),
        ("link", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("link", "example.org", "https://example.org"),
        ("tag", "#launch", "launch"),
        ("tag", "#v2", "v2"),
    ]


def test_facets_in_arabic_text_are_byte_ranges() -> None:
    fullwidth_hash = "\uff03"  # also starts a hashtag
    text = (
        "مرحبا @alice.test شاهد https://example.com/عرض، و #تسويق_رقمي! " + fullwidth_hash + "شاي"
    )
    spans = _spans(text)
    assert spans == [
        ("mention", "@alice.test", "alice.test"),
        ("link", "https://example.com/عرض", "https://example.com/عرض"),
        ("tag", "#تسويق_رقمي", "تسويق_رقمي"),
        ("tag", fullwidth_hash + "شاي", "شاي"),
    ]
    first = detect_facets(text)[0]
    assert (first.start, first.end) == (11, 22)  # "مرحبا " is 11 bytes


def test_not_facets() -> None:
    assert detect_facets("mail bob@example.com, #123, # alone, @nodot, ftp://x.io") == []


def test_tag_limits() -> None:
    assert _spans("#" + "ب" * 64) == [("tag", "#" + "ب" * 64, "ب" * 64)]
    assert detect_facets("#" + "ب" * 65) == []


def test_facet_record_shape_matches_the_lexicon() -> None:
    facet = Facet(0, 11, "mention", "alice.test")
    record = facet.as_record("did:plc:alice")
    assert set(record) == set(FACET_LEXICON["defs"]["main"]["required"])
    assert record["index"] == {"byteStart": 0, "byteEnd": 11}
    assert record["features"] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}
    ]


def test_unresolved_mentions_stay_plain_text() -> None:
    records = facet_records("@ghost.test and @alice.test", {"alice.test": "did:plc:a"}.get)
    assert len(records) == 1
    assert records[0]["features"][0]["did"] == "did:plc:a"
    assert records[0]["index"] == {"byteStart": 16, "byteEnd": 27}
