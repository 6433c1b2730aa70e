"""Words people read for interaction kinds and metric names."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext_lazy as _

INTERACTION_LABELS = {
    "comment": _("Comment"),
    "reply": _("Reply"),
    "mention": _("Mention"),
    "quote": _("Quote"),
    "direct_message": _("Direct message"),
    "review": _("Review"),
    "like": _("Like"),
    "repost": _("Repost"),
    "follow": _("Follow"),
}

METRIC_LABELS = {
    "followers": _("Followers"),
    "following": _("Following"),
    "posts": _("Posts"),
    "likes": _("Likes"),
    "replies": _("Replies"),
    "reposts": _("Reposts"),
    "quotes": _("Quotes"),
    "comments": _("Comments"),
    "shares": _("Shares"),
    "clicks": _("Clicks"),
    "impressions": _("Impressions"),
    "reach": _("Reach"),
    "saves": _("Saves"),
    "video_views": _("Video views"),
}


COUNTING_LABELS = {
    "graphemes": _("characters as people see them"),
    "characters": _("characters"),
    "weighted": _("weighted characters"),
    "utf16": _("UTF-16 code units"),
}


def join_words(words: Iterable[str]) -> str:
    """A list for reading, with the comma of the active language (Arabic uses ،)."""
    separator = "، " if translation.get_language_bidi() else ", "
    return separator.join(sorted(words))


def metric_label(name: str) -> str:
    return str(METRIC_LABELS.get(name, name.replace("_", " ")))


def interaction_label(kind: str) -> str:
    return str(INTERACTION_LABELS.get(kind, kind.replace("_", " ")))
