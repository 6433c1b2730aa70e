"""Threads (Meta) through the Threads API: posts, threads, replies, insights, keyword search.

User guide: docs/networks/threads.md. API: https://developers.facebook.com/docs/threads.
"""

from __future__ import annotations

from minbar.connectors.threads.connector import ThreadsConnector
from minbar.connectors.threads.text import count_characters, links_in, text_problems

CONNECTOR = ThreadsConnector

__all__ = ["CONNECTOR", "ThreadsConnector", "count_characters", "links_in", "text_problems"]
