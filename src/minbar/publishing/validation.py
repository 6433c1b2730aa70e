"""Check a post against each channel's rules before it is scheduled, in words people use."""

from __future__ import annotations

from dataclasses import replace

import regex
from django.utils.translation import gettext as _

from minbar.connectors.types import Capabilities, TextCounting
from minbar.connectors.x.text import V3, parse_tweet, weighted_length

_URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)


def text_length(text: str, caps: Capabilities) -> int:
    """Length as the network counts it (graphemes, code points, links as N).

    X's weighted length follows X's own rules, links found as X finds them
    (also without https://), see :mod:`minbar.connectors.x.text`.
    """
    rules = caps.text
    if rules.counting == TextCounting.WEIGHTED:
        return _weighted_length(text, rules.url_length)
    counted = text
    extra = 0
    if rules.url_length:
        urls = _URL.findall(text)
        counted = _URL.sub("", text)
        extra = rules.url_length * len(urls)
    if rules.counting == TextCounting.GRAPHEMES:
        return len(regex.findall(r"\X", counted)) + extra
    if rules.counting == TextCounting.UTF16:
        return len(counted.encode("utf-16-le")) // 2 + extra
    return len(counted) + extra


def _weighted_length(text: str, url_length: int | None) -> int:
    if url_length in (None, V3.transformed_url_length):
        return weighted_length(text)
    return parse_tweet(text, replace(V3, transformed_url_length=url_length)).weighted_length


def counting_word(caps: Capabilities) -> str:
    if caps.text.counting == TextCounting.WEIGHTED:
        return _("weighted characters")
    return _("characters")


def problems_for(
    caps: Capabilities,
    *,
    text: str,
    media_count: int = 0,
    thread: list[str] | None = None,
    first_comment: str = "",
) -> list[str]:
    """Specific messages ("Bluesky: 301/300 characters"); empty when the post fits."""
    label = str(caps.label)
    if not caps.post_types:
        # Connected for its sign-in, insights or inbox, but the network offers no posting API.
        return [
            _("%(network)s: Minbar cannot publish on this channel; its API does not allow posting.")
            % {"network": label}
        ]
    problems: list[str] = []
    rules = caps.text
    pieces = [text, *(thread or [])]
    for index, piece in enumerate(pieces):
        length = text_length(piece, caps)
        where = "" if index == 0 else _(" (thread part %(n)d)") % {"n": index + 1}
        if length > rules.max_length:
            problems.append(
                _("%(network)s%(where)s: %(used)s/%(limit)s %(unit)s")
                % {
                    "network": label,
                    "where": where,
                    "used": f"{length:,}",
                    "limit": f"{rules.max_length:,}",
                    "unit": counting_word(caps),
                }
            )
        if rules.max_bytes and len(piece.encode()) > rules.max_bytes:
            problems.append(
                _("%(network)s%(where)s: %(used)s/%(limit)s bytes")
                % {
                    "network": label,
                    "where": where,
                    "used": f"{len(piece.encode()):,}",
                    "limit": f"{rules.max_bytes:,}",
                }
            )
    if not text.strip() and media_count == 0:
        problems.append(_("%(network)s: write something or add media.") % {"network": label})
    if thread and not caps.threads:
        problems.append(_("%(network)s does not support threads.") % {"network": label})
    if first_comment and not caps.first_comment and not caps.threads:
        problems.append(_("%(network)s does not support a first comment.") % {"network": label})
    return problems
