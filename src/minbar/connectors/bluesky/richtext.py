"""Bluesky rich text: length rules and facets (links, mentions, hashtags) as UTF-8 byte ranges.

A post's ``text`` may hold at most 300 graphemes *and* 3,000 UTF-8 bytes
(lexicon ``app.bsky.feed.post``: ``maxGraphemes`` 300, ``maxLength`` 3000).
Graphemes are extended grapheme clusters (what a reader sees as one
character: a family emoji is one, an Arabic letter with its harakat is one);
``regex``'s ``\\X`` follows the current Unicode rules (15.1 GB9c included, so
Devanagari conjuncts count as the official client counts them).

Facets point into the text by *byte* offsets of its UTF-8 encoding, never by
Python string indexes: an Arabic letter is 2 bytes, most emoji 4.
See https://docs.bsky.app/docs/advanced-guides/post-richtext and
https://docs.bsky.app/docs/advanced-guides/posts (section "Mentions and links").

Detection follows the official TypeScript client
(``@atproto/api`` ``rich-text/detection.ts``): a mention is ``@handle`` after
the start, a space or ``(``; a link is an ``http(s)://`` URL or a bare domain
with a known top-level domain, without its trailing punctuation; a hashtag is
``#`` or the full-width number sign (U+FF03) after the start or a space, not only digits, at most 64
graphemes, without trailing punctuation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_TAG_GRAPHEMES = 64
MAX_TAG_BYTES = 640

# The official client's patterns, with JavaScript's lookbehind-free forms kept.
_MENTION = regex.compile(r"(^|\s|\()(@)([a-zA-Z0-9.-]+)(\b)")
_URL = regex.compile(
    r"(^|\s|\()((https?://\S+)|((?P<domain>[a-z][a-z0-9]*(\.[a-z0-9]+)+)\S*))",
    regex.IGNORECASE | regex.MULTILINE,
)
_TAG_STOP = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(^|\s)[#\uff03]((?!\ufe0f)[^\s{_TAG_STOP}]*[^\d\s\p{{P}}{_TAG_STOP}]+[^\s{_TAG_STOP}]*)?"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
# Arabic comma, semicolon and question mark end a sentence the way ".,;?" do.
_URL_TRAILING = regex.compile(r"[.,;:!?\u060c\u061b\u061f]$")

# Handle syntax from https://atproto.com/specs/handle: dot-separated labels, the last
# (TLD) starting with a letter. Whether it exists is asked of the server.
_HANDLE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)

# Bare domains ("example.com") become links only with a top-level domain people write
# without a scheme; the official client checks the full IANA list. A URL with http(s)://
# is always a link.
_BARE_DOMAIN_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "io",
        "co",
        "app",
        "dev",
        "ai",
        "me",
        "tv",
        "xyz",
        "online",
        "site",
        "store",
        "shop",
        "blog",
        "news",
        "social",
        "tech",
        "cloud",
        "page",
        "link",
        "live",
        "world",
        "media",
        "design",
        "agency",
        "art",
        "studio",
        "uk",
        "us",
        "ca",
        "au",
        "nz",
        "ie",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "be",
        "ch",
        "at",
        "se",
        "no",
        "dk",
        "fi",
        "pl",
        "pt",
        "gr",
        "tr",
        "ru",
        "ua",
        "jp",
        "cn",
        "kr",
        "in",
        "br",
        "mx",
        "ar",
        "cl",
        "za",
        "ng",
        "ke",
        "eg",
        "ma",
        "tn",
        "dz",
        "sa",
        "ae",
        "qa",
        "kw",
        "bh",
        "om",
        "jo",
        "lb",
        "iq",
        "ps",
        "sy",
        "ly",
        "sd",
        "ye",
        "ir",
        "pk",
        "id",
        "my",
        "sg",
        "ph",
        "th",
        "vn",
        "il",
        "eu",
        "asia",
    ]
)


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    return len(regex.findall(r"\X", text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_to_utf8_index(text: str, index: int) -> int:
    """A UTF-16 code unit offset (JavaScript's string index) as a UTF-8 byte offset."""
    prefix = text.encode("utf-16-le")[: index * 2].decode("utf-16-le")
    return utf8_length(prefix)


def byte_offset(text: str, index: int) -> int:
    """A Python string index (code points) as a UTF-8 byte offset."""
    return utf8_length(text[:index])


def validate_text(text: str) -> list[str]:
    """What keeps ``text`` from being one Bluesky post; empty when it fits."""
    problems: list[str] = []
    count = graphemes(text)
    if count > MAX_GRAPHEMES:
        problems.append(f"Bluesky: {count:,}/{MAX_GRAPHEMES:,} characters")
    size = utf8_length(text)
    if size > MAX_BYTES:
        problems.append(f"Bluesky: {size:,}/{MAX_BYTES:,} bytes")
    return problems


@dataclass(frozen=True)
class Facet:
    """One annotation; ``start``/``end`` are UTF-8 byte offsets (end exclusive)."""

    start: int
    end: int
    kind: str  # "mention" | "link" | "tag"
    value: str  # the handle (before resolution), the full URL, or the tag without "#"

    def as_record(self, did: str = "") -> dict[str, Any]:
        """The ``app.bsky.richtext.facet`` object (a mention needs the resolved DID)."""
        if self.kind == "mention":
            feature: dict[str, Any] = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        elif self.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": self.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": self.value}
        return {"index": {"byteStart": self.start, "byteEnd": self.end}, "features": [feature]}


def _is_handle(candidate: str) -> bool:
    return len(candidate) <= 253 and bool(_HANDLE.match(candidate))


def detect_facets(text: str) -> list[Facet]:
    """Mentions, links and hashtags in ``text``, in the order the official client finds them."""
    facets: list[Facet] = []
    for match in _MENTION.finditer(text):
        handle = match.group(3).rstrip(".")
        if not _is_handle(handle):
            continue  # "@home" or an e-mail-like fragment: not a handle
        start = match.start(2)  # the "@"
        end = match.start(3) + len(handle)
        facets.append(
            Facet(byte_offset(text, start), byte_offset(text, end), "mention", handle.lower())
        )
    for match in _URL.finditer(text):
        uri = match.group(2)
        start = match.start(2)
        end = match.end(2)
        if not uri.lower().startswith("http"):
            domain = match.group("domain") or ""
            if domain.rsplit(".", 1)[-1].lower() not in _BARE_DOMAIN_TLDS:
                continue
            uri = "https://" + uri
        if _URL_TRAILING.search(uri):
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        facets.append(Facet(byte_offset(text, start), byte_offset(text, end), "link", uri))
    for match in _TAG.finditer(text):
        tag = match.group(2)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip())
        if not tag or graphemes(tag) > MAX_TAG_GRAPHEMES or utf8_length(tag) > MAX_TAG_BYTES:
            continue
        start = match.start(2) - 1  # the "#" or its full-width form
        end = match.start(2) + len(tag)
        facets.append(Facet(byte_offset(text, start), byte_offset(text, end), "tag", tag))
    return facets


def facet_records(text: str, resolve_handle: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Facets ready for a post record; mentions whose handle does not resolve stay plain text."""
    records: list[dict[str, Any]] = []
    for facet in detect_facets(text):
        if facet.kind == "mention":
            did = resolve_handle(facet.value)
            if not did:
                continue
            records.append(facet.as_record(did))
        else:
            records.append(facet.as_record())
    return records
