"""LinkedIn: members' profiles and Company Pages — posts, comments, statistics.

User guide: docs/networks/linkedin.md. API:
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
"""

from __future__ import annotations

from minbar.connectors.linkedin.connector import LinkedInConnector

CONNECTOR = LinkedInConnector

__all__ = ["CONNECTOR", "LinkedInConnector"]
