"""Mastodon (and Mastodon-API-compatible instances): publishing, metrics, notifications, search.

User guide: docs/networks/mastodon.md. API: https://docs.joinmastodon.org/methods/.
"""

from __future__ import annotations

from minbar.connectors.mastodon.connector import MastodonConnector, normalize_server_url
from minbar.connectors.mastodon.text import count_characters, limits_from_instance, validate_text

CONNECTOR = MastodonConnector

__all__ = [
    "CONNECTOR",
    "MastodonConnector",
    "count_characters",
    "limits_from_instance",
    "normalize_server_url",
    "validate_text",
]
