"""Instagram professional accounts: publishing (posts, carousels, reels, stories),
comments, mentions, messages, insights and webhooks.

Two sign-ins, one connector (see :mod:`.login`): Instagram Login
(graph.instagram.com, no Facebook Page needed) and Facebook Login (an Instagram
account linked to a Page, graph.facebook.com). User guide:
docs/networks/instagram.md. API: https://developers.facebook.com/docs/instagram-platform.
"""

from __future__ import annotations

from minbar.connectors.instagram.connector import InstagramConnector

CONNECTOR = InstagramConnector

__all__ = ["CONNECTOR", "InstagramConnector"]
