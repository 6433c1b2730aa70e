"""How Threads counts a post's text, and the link limit.

Threads' own words (https://developers.facebook.com/docs/threads/posts, "Limitations"):
"Text posts are limited to 500 characters. Emojis are counted as the number of UTF-8
bytes" — the page links the grapheme-splitter package for what a character is. So
Minbar counts one per user-perceived character (grapheme cluster: an Arabic letter
with its harakat is one) except that a grapheme holding an emoji counts as many as
its UTF-8 bytes (😀 is 4, 👍🏽 is 8, a family emoji joined by ZWJs more).

Links (https://developers.facebook.com/docs/threads/create-posts/text-attachments,
"How links are counted"): posts with more than 5 unique URLs — those in the text
plus a different ``link_attachment`` — fail with THREADS_API__LINK_LIMIT_EXCEEDED.
"""

from __future__ import annotations

import regex

MAX_CHARACTERS = 500
MAX_LINKS = 5

_GRAPHEME = regex.compile(r"\X")
# Emoji: pictographs (😀, ❤), regional-indicator flags and keycaps (1️⃣).
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]|\u20E3")
# URLs as Threads finds them in text: with a scheme, or a bare www. host.
_URL = regex.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")


def count_characters(text: str) -> int:
    """The length Threads checks against its 500-character limit."""
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        total += len(grapheme.encode("utf-8")) if _EMOJI.search(grapheme) else 1
    return total


def links_in(text: str, link_attachment: str = "") -> list[str]:
    """The unique links Threads counts: those in the text, then a different attachment."""
    found: list[str] = []
    for match in _URL.findall(text):
        url = match.rstrip(".,;:!?)]}\u00bb\u201d\u2019")
        if url and url not in found:
            found.append(url)
    if link_attachment and link_attachment not in found:
        found.append(link_attachment)
    return found


def text_problems(text: str, *, link_attachment: str = "", where: str = "") -> list[str]:
    """Specific messages for a text Threads would refuse; empty when it fits."""
    prefix = f"{where}: " if where else ""
    problems: list[str] = []
    length = count_characters(text)
    if length > MAX_CHARACTERS:
        problems.append(
            f"{prefix}Threads: {length}/{MAX_CHARACTERS} characters "
            "(each emoji counts as its UTF-8 bytes, usually 4)."
        )
    links = links_in(text, link_attachment)
    if len(links) > MAX_LINKS:
        problems.append(
            f"{prefix}Threads: {len(links)} links; a post may have at most {MAX_LINKS}."
        )
    return problems
