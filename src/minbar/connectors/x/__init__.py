"""X (formerly Twitter) through the X API v2: publishing, metrics, mentions, search.

User guide: docs/networks/x.md. API: https://docs.x.com/x-api/introduction.
"""

from __future__ import annotations

from minbar.connectors.x.connector import XConnector
from minbar.connectors.x.text import parse_tweet, validate_text, weighted_length

CONNECTOR = XConnector

__all__ = ["CONNECTOR", "XConnector", "parse_tweet", "validate_text", "weighted_length"]
