"""The capabilities of every connector as a Markdown table (docs/networks/README.md)."""

from __future__ import annotations

import os

from django.utils import translation

from minbar.connectors.base import Connector
from minbar.connectors.options import options_for
from minbar.connectors.types import AuthKind, TextCounting

_COUNTING = {
    TextCounting.GRAPHEMES: "graphemes",
    TextCounting.CHARACTERS: "characters",
    TextCounting.WEIGHTED: "weighted characters",
    TextCounting.UTF16: "UTF-16 units",
}


_AUTH = {
    AuthKind.OAUTH2: "sign-in page (OAuth 2)",
    AuthKind.APP_PASSWORD: "app password",
    AuthKind.TOKEN: "token",
    AuthKind.BUILT_IN: "built in",
}


def _text(cls: type[Connector]) -> str:
    rules = cls.capabilities.text
    parts = [f"{rules.max_length:,} {_COUNTING[rules.counting]}"]
    if rules.max_bytes:
        parts.append(f"{rules.max_bytes:,} bytes")
    if rules.url_length:
        parts.append(f"links count {rules.url_length}")
    return "; ".join(parts)


def _media(cls: type[Connector]) -> str:
    media = cls.capabilities.media
    parts = []
    if media.max_images:
        parts.append(f"{media.max_images} images")
    if media.max_videos:
        parts.append(f"{media.max_videos} video" + ("s" if media.max_videos > 1 else ""))
    if media.document_types:
        parts.append(f"or {media.max_documents or 1} document (PDF)")
    if media.alt_text and parts:
        parts.append("alt text")
    return ", ".join(parts) or "—"


# The network's own word for a canonical metric key (connectors.types.POST_METRIC_KEYS),
# so the table reads the way each network's users speak: "shares (reposts)".
NETWORK_METRIC_WORDS: dict[str, dict[str, str]] = {
    "bluesky": {"shares": "reposts", "comments": "replies"},
    "mastodon": {"likes": "favourites", "shares": "boosts", "comments": "replies"},
}


def _metrics(cls: type[Connector]) -> str:
    words = NETWORK_METRIC_WORDS.get(cls.network, {})
    items = [
        f"{key} ({words[key]})" if key in words else key
        for key in sorted(str(k) for k in cls.capabilities.post_metrics)
    ]
    return ", ".join(items) or "—"


def _listing(values: object) -> str:
    items = sorted(str(getattr(v, "value", v)) for v in values)  # type: ignore[attr-defined]
    return ", ".join(items) or "—"


def _settings(cls: type[Connector]) -> str:
    """The composer's settings for the network (minbar.connectors.options), in English."""
    with translation.override("en"):
        labels = [str(option.label) for option in options_for(cls.capabilities)]
    return ", ".join(labels) or "—"


def markdown_table(connectors: list[type[Connector]]) -> str:
    header = (
        "| Network | Connects with | Text | Media per post | Post types | Threads | "
        "Post settings | Post metrics | Inbox and activity | Search |"
    )
    lines = [header, "| " + " | ".join(["---"] * 10) + " |"]
    for cls in connectors:
        caps = cls.capabilities
        link = os.path.relpath(caps.setup_doc, "docs/networks") if caps.setup_doc else ""
        name = f"[{caps.label}]({link})" if link else str(caps.label)
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    _AUTH[caps.auth],
                    _text(cls),
                    _media(cls),
                    _listing(caps.post_types),
                    "yes" if caps.threads else "no",
                    _settings(cls),
                    _metrics(cls),
                    _listing(caps.interactions).replace("direct_message", "direct message"),
                    "yes" if caps.search else "no",
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
