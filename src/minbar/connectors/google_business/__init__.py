"""Google Business Profile: local posts (updates, events, offers), reviews and profile metrics.

User guide: docs/networks/google_business.md. APIs: https://developers.google.com/my-business.
"""

from __future__ import annotations

from minbar.connectors.google_business.connector import Endpoints, GoogleBusinessConnector
from minbar.connectors.google_business.posts import EventDetails, LocalPostOptions, OfferDetails

CONNECTOR = GoogleBusinessConnector

__all__ = [
    "CONNECTOR",
    "Endpoints",
    "EventDetails",
    "GoogleBusinessConnector",
    "LocalPostOptions",
    "OfferDetails",
]
