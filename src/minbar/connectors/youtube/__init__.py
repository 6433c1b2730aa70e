"""YouTube (Data API v3): video uploads and Shorts, comments, statistics, the daily quota.

User guide: docs/networks/youtube.md. API: https://developers.google.com/youtube/v3/docs.
"""

from __future__ import annotations

from minbar.connectors.youtube.connector import Endpoints, VideoOptions, YouTubeConnector
from minbar.connectors.youtube.quota import QuotaLedger, QuotaStatus

CONNECTOR = YouTubeConnector

__all__ = [
    "CONNECTOR",
    "Endpoints",
    "QuotaLedger",
    "QuotaStatus",
    "VideoOptions",
    "YouTubeConnector",
]
