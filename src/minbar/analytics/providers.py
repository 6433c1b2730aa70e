"""Where referrals (short-link clicks) and conversions come from: a small provider interface.

Analytics does not count clicks or conversions itself; the links app does. It
plugs in by exposing an object with these methods and naming it in
``MINBAR_ANALYTICS_LINK_PROVIDER`` (default ``minbar.links.stats:analytics_provider``).
When that module is not installed, dashboards show what exists and say which
source is missing; nothing is shown as zero.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_PROVIDER = "minbar.links.stats:analytics_provider"


@dataclass(frozen=True)
class LinkScope:
    """The same narrowing as analytics' own scopes: a workspace, channels, a post, a tag."""

    workspace_id: int
    channel_ids: tuple[int, ...] | None = None
    post_id: int | None = None
    tag: str = ""


@dataclass(frozen=True)
class LinkTotals:
    clicks: int
    unique_visitors: int | None = None
    conversions: int | None = None  # None: conversions are not tracked
    revenue: Decimal | None = None


class LinkStatsProvider(Protocol):
    def totals(self, scope: LinkScope, start: datetime, end: datetime) -> LinkTotals:
        """Clicks, unique visitors, conversions and revenue in [start, end)."""

    def by_channel(self, scope: LinkScope, start: datetime, end: datetime) -> dict[int, LinkTotals]:
        """The same per channel id."""

    def daily(
        self, scope: LinkScope, start: datetime, end: datetime, zone: ZoneInfo
    ) -> dict[date, LinkTotals]:
        """The same per day in ``zone``."""


_override: LinkStatsProvider | None = None
_overridden = False


def set_link_provider(provider: LinkStatsProvider | None) -> None:
    """Use ``provider`` (None: none installed) instead of the configured one (tests, plugins)."""
    global _override, _overridden
    _override, _overridden = provider, True


def reset_link_provider() -> None:
    global _override, _overridden
    _override, _overridden = None, False


def link_provider() -> LinkStatsProvider | None:
    """The installed provider, or None when the links app is not installed."""
    if _overridden:
        return _override
    path = getattr(settings, "MINBAR_ANALYTICS_LINK_PROVIDER", DEFAULT_PROVIDER) or ""
    if not path:
        return None
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "that module is not there" means not installed; a broken module must fail loudly.
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    provider = getattr(module, attribute or "analytics_provider", None)
    return provider
