"""LinkedIn's text rules: the "little" format of post commentary, and the length limits.

Post commentary is written in LinkedIn's *little* text format, where ``| { } @ [ ] ( )
< > # \\ * _ ~`` are reserved (mentions are ``@[Name](urn)``, hashtags
``{hashtag|\\#|tag}``). "All reserved characters need to be escaped with a
backslash, even if those characters are not used in one of the supported elements"
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format).
An unescaped one is not an error: LinkedIn silently cuts the post at it, so a
post with "(see below)" would go out as its first words only. Minbar therefore
escapes everything and turns ``#word`` into the documented hashtag template,
so hashtags stay clickable.

Comments (the Comments API's ``message.text``) are plain text, not little.

Limits: a post's commentary takes up to 3,000 characters and a comment up to
1,250 (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api,
.../shares/comments-api). LinkedIn does not say how it counts; its services are
Java, whose strings count UTF-16 code units, so Minbar counts those: an emoji
outside the Basic Multilingual Plane counts 2, every Arabic letter 1. Counting
this way never lets through a post LinkedIn would refuse as too long.
"""

from __future__ import annotations

import re

POST_MAX_LENGTH = 3000
COMMENT_MAX_LENGTH = 1250
# The little format's reserved characters (backslash first, so escapes are not re-escaped).
RESERVED = "\\|{}@[]()<>#*_~"
_RESERVED_RE = re.compile("[" + re.escape(RESERVED) + "]")
# A hashtag as people write it: # (or the full-width U+FF03) then letters, digits, underscores.
FULL_WIDTH_HASH = "\uff03"
_HASHTAG_RE = re.compile(rf"(?<![\w#{FULL_WIDTH_HASH}])([#{FULL_WIDTH_HASH}])(\w+)")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape_little(text: str) -> str:
    """Plain text as little text: every reserved character escaped."""
    return _RESERVED_RE.sub(lambda m: "\\" + m.group(0), text)


def to_commentary(text: str) -> str:
    """Post text as LinkedIn commentary: reserved characters escaped, #tags as hashtags.

    ``Launch #day (at last)`` becomes ``Launch {hashtag|\\#|day} \\(at last\\)``.
    """
    parts: list[str] = []
    position = 0
    for match in _HASHTAG_RE.finditer(text):
        parts.append(escape_little(text[position : match.start()]))
        sign = "\\#" if match.group(1) == "#" else match.group(1)
        parts.append("{hashtag|" + sign + "|" + escape_little(match.group(2)) + "}")
        position = match.end()
    parts.append(escape_little(text[position:]))
    return "".join(parts)


_TEMPLATE_RE = re.compile(rf"\{{hashtag\|\\?([#{FULL_WIDTH_HASH}])\|((?:\\.|[^}}\\])*)\}}")
_MENTION_RE = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:[^)]+)\)")
_ESCAPED_RE = re.compile(r"\\(.)", re.DOTALL)


def from_commentary(commentary: str) -> str:
    """What people see for a commentary: templates and mentions as text, escapes removed."""
    text = _TEMPLATE_RE.sub(lambda m: m.group(1) + m.group(2), commentary)
    text = _MENTION_RE.sub(lambda m: m.group(1), text)
    return _ESCAPED_RE.sub(lambda m: m.group(1), text)


def post_text_problems(text: str) -> list[str]:
    length = utf16_length(text)
    if length > POST_MAX_LENGTH:
        return [f"LinkedIn: {length}/{POST_MAX_LENGTH} characters."]
    return []


def comment_text_problems(text: str) -> list[str]:
    if not text.strip():
        return ["LinkedIn: a comment needs text."]
    length = utf16_length(text)
    if length > COMMENT_MAX_LENGTH:
        return [f"LinkedIn: a comment takes at most {COMMENT_MAX_LENGTH} characters ({length})."]
    return []
