"""A post's text as a Pin's title and description, and the limits on both.

A Pin has an optional ``title`` (at most 100 characters) and a ``description``
(at most 500 characters); its ``alt_text`` takes up to 500 and its destination
``link`` up to 2,048 (the ``PinCreate`` schema of https://developers.pinterest.com/docs/api/v5/ ,
``pins/create``; the limits as the "Create boards and Pins" guide,
https://developers.pinterest.com/docs/work-with-organic-content-and-users/create-boards-and-pins/,
and Pinterest's product specs state them).

Minbar's post text becomes both, predictably: when the text has more than one
line and its first line is at most 100 characters, that line is the title and
the rest the description; otherwise the whole text is the description and the
Pin has no title. The composer limits the whole text to 500 characters
(``TextRules``), so both parts always fit. Characters are Unicode code points,
so an Arabic letter with its harakat counts each mark and an emoji counts one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

TITLE_MAX = 100
DESCRIPTION_MAX = 500
ALT_TEXT_MAX = 500
LINK_MAX = 2048


def count_characters(text: str) -> int:
    """Characters as Minbar counts them against Pinterest's limits (code points)."""
    return len(text)


def title_and_description(text: str) -> tuple[str, str]:
    """(title, description) of a Pin made from ``text``; the title may be empty."""
    stripped = text.strip()
    first, newline, rest = stripped.partition("\n")
    first = first.strip()
    if newline and rest.strip() and first and count_characters(first) <= TITLE_MAX:
        return first, rest.strip()
    return "", stripped


def link_problem(link: str) -> str:
    """Why Pinterest would refuse ``link`` as a Pin's destination, or ""."""
    if not link:
        return ""
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"Pinterest: the link must be a web address starting with https://, not “{link}”."
    if len(link) > LINK_MAX:
        return f"Pinterest: the link is {len(link):,} characters long; at most {LINK_MAX:,}."
    return ""


def text_problems(text: str, link: str = "") -> list[str]:
    """Everything about the text and link Pinterest would refuse, in people's words."""
    problems: list[str] = []
    # The title is never too long: a first line over 100 characters stays in the description.
    _title, description = title_and_description(text)
    if count_characters(description) > DESCRIPTION_MAX:
        problems.append(
            f"Pinterest: the description is {count_characters(description)} characters; "
            f"at most {DESCRIPTION_MAX}."
        )
    if problem := link_problem(link):
        problems.append(problem)
    return problems
