"""Pinterest through API v5: boards and sections, image, carousel and video Pins, analytics.

User guide: docs/networks/pinterest.md. API: https://developers.pinterest.com/docs/api/v5/.
"""

from __future__ import annotations

from minbar.connectors.pinterest.connector import PinterestConnector
from minbar.connectors.pinterest.text import count_characters, text_problems, title_and_description

CONNECTOR = PinterestConnector

__all__ = [
    "CONNECTOR",
    "PinterestConnector",
    "count_characters",
    "text_problems",
    "title_and_description",
]
