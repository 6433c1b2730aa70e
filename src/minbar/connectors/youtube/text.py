"""A post's text as a YouTube video's title and description, and the limits on both.

From the video resource's documentation
(https://developers.google.com/youtube/v3/docs/videos#snippet.title and following):

* ``snippet.title``: at most 100 characters, required, no ``<`` or ``>``;
* ``snippet.description``: at most 5,000 bytes (UTF-8), no ``<`` or ``>``;
* ``snippet.tags``: at most 500 characters in all, counting a comma between tags
  and the quotation marks YouTube adds around a tag that contains a space.

Minbar's post text becomes both: its first line is the title (the channel's
per-network variant of the post can give YouTube its own first line) and the
rest the description. A first line longer than 100 characters is shortened at a
word boundary with "…" and the whole text goes in the description, so nothing
is lost. ``<`` and ``>`` become the look-alike single angle quotation marks
(U+2039, U+203A), since YouTube refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500

_ANGLES = str.maketrans({"<": "\u2039", ">": "\u203a"})


def clean(text: str) -> str:
    return text.translate(_ANGLES)


def title_length(title: str) -> int:
    """Characters (Unicode code points), as YouTube counts the 100."""
    return len(title)


def description_bytes(description: str) -> int:
    return len(description.encode("utf-8"))


def shorten(line: str, limit: int = TITLE_MAX) -> str:
    """``line`` cut at a word boundary to at most ``limit`` characters, "…" included."""
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-\u2013\u2014") + "…"


def with_link(description: str, link: str) -> str:
    if link and link not in description:
        return f"{description}\n\n{clean(link)}".strip()
    return description


def title_and_description(text: str, link: str = "", title: str = "") -> tuple[str, str]:
    """(title, description) from a post's text and optional link.

    With an explicit ``title`` the whole text is the description.
    """
    text = clean(text.strip())
    if title.strip():
        return clean(title.strip()), with_link(text, link)
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    rest = "\n".join(lines[1:]).strip()
    short = shorten(first)
    return short, with_link(text if short != first else rest, link)


def tags_length(tags: Iterable[str]) -> int:
    """The length YouTube counts against the 500-character limit."""
    items = [t for t in tags if t]
    total = sum(len(t) + (2 if " " in t else 0) for t in items)
    return total + max(0, len(items) - 1)


def problems(title: str, description: str, tags: Iterable[str] = ()) -> list[str]:
    """What YouTube would refuse, in words for people (empty when all is well)."""
    found: list[str] = []
    if not title.strip():
        found.append("YouTube needs a title: write it on the first line of the post.")
    elif title_length(title) > TITLE_MAX:
        found.append(
            f"YouTube titles are at most {TITLE_MAX} characters; this one has "
            f"{title_length(title)}."
        )
    size = description_bytes(description)
    if size > DESCRIPTION_MAX_BYTES:
        found.append(
            f"YouTube descriptions are at most {DESCRIPTION_MAX_BYTES:,} bytes; this one has "
            f"{size:,} (Arabic letters take two bytes each, emoji four)."
        )
    tag_total = tags_length(tags)
    if tag_total > TAGS_MAX:
        found.append(
            f"YouTube tags are at most {TAGS_MAX} characters in all; these take {tag_total}."
        )
    return found
