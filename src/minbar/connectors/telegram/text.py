"""How Telegram counts and parses a post's text, and how Minbar escapes it.

Bot API (https://core.telegram.org/bots/api):

- ``sendMessage``: "Text of the message to be sent, 1-4096 characters after
  entities parsing"; ``sendPhoto``/``sendVideo``/``InputMediaPhoto``: "caption …
  0-1024 characters after entities parsing".
- Telegram measures text in UTF-16 code units: entity offsets and lengths are
  "in UTF-16 code units" (#messageentity) and ``quote_position`` likewise
  (#replyparameters), so 😀 counts 2 and an Arabic letter 1. Minbar counts the
  same way (``TextCounting.UTF16``).
- #formatting-options, "HTML style": "All ``<``, ``>`` and ``&`` symbols that are
  not a part of a tag or an HTML entity must be replaced with the corresponding
  HTML entities". Minbar's posts are plain text, so every one of them is
  escaped; ``parse_mode=HTML`` then makes Telegram show exactly what was
  written, never a tag a person typed by accident (``a <b> c``).
"""

from __future__ import annotations

import re

MAX_TEXT = 4096
MAX_CAPTION = 1024

_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"']+")


def utf16_length(text: str) -> int:
    """Telegram's length: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape_html(text: str) -> str:
    """``text`` for ``parse_mode=HTML``: ``&``, ``<`` and ``>`` as entities, nothing else.

    Quotes need no escaping outside attribute values, and ``&quot;`` would only
    make the request longer; the parsed text is the same.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def links_in(text: str) -> list[str]:
    found: list[str] = []
    for match in _URL.findall(text):
        url = match.rstrip(".,;:!?)]}\u00bb\u201d\u2019")
        if url and url not in found:
            found.append(url)
    return found


def with_link(text: str, link: str) -> str:
    """The text with ``link`` on its own line at the end, unless the text already has it."""
    if not link or link in text:
        return text
    return f"{text.rstrip()}\n\n{link}" if text.strip() else link


def text_problems(text: str, *, caption: bool, where: str = "") -> list[str]:
    """Specific messages for a text Telegram would refuse; empty when it fits."""
    prefix = f"{where}: " if where else ""
    limit = MAX_CAPTION if caption else MAX_TEXT
    length = utf16_length(text)
    problems: list[str] = []
    if not caption and not text.strip():
        problems.append(f"{prefix}Telegram: a text message cannot be empty.")
    if length > limit:
        what = "a caption under photos or a video" if caption else "a text message"
        problems.append(
            f"{prefix}Telegram: {length}/{limit} characters in {what} "
            "(Telegram counts an emoji as 2)."
        )
    return problems
