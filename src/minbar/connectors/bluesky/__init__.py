"""Bluesky (AT Protocol): publish, measure and answer through the account's PDS."""

from __future__ import annotations

from minbar.connectors.bluesky.connector import BlueskyConnector

CONNECTOR = BlueskyConnector

__all__ = ["CONNECTOR", "BlueskyConnector"]
