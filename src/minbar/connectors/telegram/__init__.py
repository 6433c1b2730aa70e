"""Telegram channels and groups through the Bot API: posts, albums, threads, comments.

User guide: docs/networks/telegram.md. API: https://core.telegram.org/bots/api.
"""

from __future__ import annotations

from minbar.connectors.telegram.connector import TelegramConnector
from minbar.connectors.telegram.text import escape_html, text_problems, utf16_length

CONNECTOR = TelegramConnector

__all__ = ["CONNECTOR", "TelegramConnector", "escape_html", "text_problems", "utf16_length"]
