"""Facebook Pages: publishing, comments, Messenger conversations, insights, webhooks.

User guide: docs/networks/facebook.md. API: https://developers.facebook.com/docs/pages-api.
Shared Graph plumbing lives in :mod:`minbar.connectors.meta_graph`.
"""

from __future__ import annotations

from minbar.connectors.facebook.connector import FacebookConnector

CONNECTOR = FacebookConnector

__all__ = ["CONNECTOR", "FacebookConnector"]
