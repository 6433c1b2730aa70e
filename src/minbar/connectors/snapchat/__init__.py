"""Snapchat: sign in with Snap's Login Kit; no organic publishing (see docs/networks/snapchat.md).

Login Kit: https://developers.snap.com/snap-kit/login-kit/overview. Posting Stories,
Saved Stories and Spotlight to a Public Profile goes through Snap's Public Profile
API, which is "currently allowlist only"
(https://developers.snap.com/api/marketing-api/Public-Profile-API/GetStarted).
"""

from __future__ import annotations

from minbar.connectors.snapchat.connector import Endpoints, SnapchatConnector

CONNECTOR = SnapchatConnector

__all__ = ["CONNECTOR", "Endpoints", "SnapchatConnector"]
