"""TikTok (Login Kit + Content Posting API): videos and photo posts, drafts, video counts.

User guide: docs/networks/tiktok.md. API: https://developers.tiktok.com/doc/content-posting-api-get-started/.
"""

from __future__ import annotations

from minbar.connectors.tiktok.choices import CreatorInfo, PostSettings
from minbar.connectors.tiktok.connector import TikTokConnector

CONNECTOR = TikTokConnector

__all__ = ["CONNECTOR", "CreatorInfo", "PostSettings", "TikTokConnector"]
