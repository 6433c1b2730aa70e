"""The YouTube Data API's daily quota: what each call costs and what is left today.

Google's figures (https://developers.google.com/youtube/data/determine_quota_cost,
"Quota Calculator"):

* a project has **10,000 units per day** for all methods but two; every request
  costs at least one unit, invalid ones included;
* ``videos.insert`` and ``search.list`` have **their own buckets of 100 calls per
  day** each (one per call). Before that change videos.insert cost 1,600 units of
  the 10,000 (https://developers.google.com/youtube/v3/docs/videos/insert, "Quota
  impact"), which allowed six uploads a day;
* quotas **reset at midnight Pacific Time** (America/Los_Angeles, so the reset
  moves with daylight saving time).

The quota belongs to the Google Cloud *project* (Minbar's developer app), not to
a channel: every YouTube channel connected to this Minbar, and any other program
using the same project, draws from it. A connector only sees its own calls, so
:class:`QuotaLedger` counts what *this channel's* calls spent today; the units
left for the project are therefore *at most* ``limit - used``. When Google answers
``quotaExceeded`` the ledger records that the project is out until the reset, so
the figure shown is 0 whatever the count says.

The ledger lives in the channel's ``Credentials.data["quota"]`` (saved with the
credentials through ``Connector.save_credentials``), as
``{"day": "2025-05-01", "units": 153, "uploads": 2, "exhausted": ["units"]}``.
Two jobs of one channel running at the same moment (publishing and the inbox
poll) each save their own count, so one may overwrite the other's last few
units: the ledger is an estimate; Google's own answer is what Minbar obeys.

Operators whose project was granted more quota set ``MINBAR_YOUTUBE_DAILY_UNITS``
and ``MINBAR_YOUTUBE_DAILY_UPLOADS`` (positive whole numbers).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

logger = logging.getLogger("minbar.connectors.youtube")

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_DAILY_UNITS = 10_000
DEFAULT_DAILY_UPLOADS = 100

UNITS = "units"
UPLOADS = "uploads"

# Cost of each method Minbar calls, in units of the shared bucket
# (https://developers.google.com/youtube/data/determine_quota_cost).
# videos.insert is counted in its own bucket instead (see UPLOAD_METHODS).
COSTS: dict[str, int] = {
    "channels.list": 1,
    "videos.list": 1,
    "videos.delete": 50,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
    "thumbnails.set": 50,
    "commentThreads.list": 1,
    "commentThreads.insert": 50,
    "comments.list": 1,
    "comments.insert": 50,
    "comments.setModerationStatus": 50,
    "comments.delete": 50,
}
UPLOAD_METHODS = frozenset({"videos.insert"})


def _limit_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        logger.warning("%s must be a positive whole number (got %r); using %s", name, raw, default)
        return default
    return value


def daily_limits() -> dict[str, int]:
    return {
        UNITS: _limit_from_env("MINBAR_YOUTUBE_DAILY_UNITS", DEFAULT_DAILY_UNITS),
        UPLOADS: _limit_from_env("MINBAR_YOUTUBE_DAILY_UPLOADS", DEFAULT_DAILY_UPLOADS),
    }


def pacific_day(moment: datetime | None = None) -> date:
    """The quota day a moment belongs to (the date in Pacific Time)."""
    return (moment or datetime.now(UTC)).astimezone(PACIFIC).date()


def next_reset(moment: datetime | None = None) -> datetime:
    """The next midnight in Pacific Time, in UTC."""
    day = pacific_day(moment) + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=PACIFIC).astimezone(UTC)


def seconds_until_reset(moment: datetime | None = None) -> float:
    moment = moment or datetime.now(UTC)
    return max(0.0, (next_reset(moment) - moment).total_seconds())


@dataclass(frozen=True)
class QuotaStatus:
    """What this channel spent today and what the project may have left.

    ``units_remaining``/``uploads_remaining`` are upper bounds: other channels on
    the same Google Cloud project spend from the same buckets. ``exhausted`` lists
    the buckets Google said were empty today (then the remaining figure is 0).
    """

    day: date
    units_used: int
    units_limit: int
    uploads_used: int
    uploads_limit: int
    resets_at: datetime
    exhausted: tuple[str, ...] = ()

    @property
    def units_remaining(self) -> int:
        return 0 if UNITS in self.exhausted else max(0, self.units_limit - self.units_used)

    @property
    def uploads_remaining(self) -> int:
        return 0 if UPLOADS in self.exhausted else max(0, self.uploads_limit - self.uploads_used)


class QuotaLedger:
    """This channel's spending for the current Pacific day (see the module docstring)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        self.day = str(data.get("day") or "")
        self.units = _whole(data.get(UNITS))
        self.uploads = _whole(data.get(UPLOADS))
        self.exhausted = {str(b) for b in data.get("exhausted") or () if b in (UNITS, UPLOADS)}
        self.changed = False

    def _roll(self, moment: datetime | None) -> None:
        today = pacific_day(moment).isoformat()
        if self.day != today:
            if self.day:  # a new day: yesterday's spending no longer counts
                self.changed = True
            self.day, self.units, self.uploads, self.exhausted = today, 0, 0, set()

    def spend(self, method: str, *, moment: datetime | None = None) -> None:
        """Count one call of ``method`` (answered or refused: both cost, says Google)."""
        self._roll(moment)
        if method in UPLOAD_METHODS:
            self.uploads += 1
        else:
            self.units += COSTS.get(method, 1)
        self.changed = True

    def mark_exhausted(self, bucket: str, *, moment: datetime | None = None) -> None:
        self._roll(moment)
        if bucket not in self.exhausted:
            self.exhausted.add(bucket)
            self.changed = True

    def status(self, moment: datetime | None = None) -> QuotaStatus:
        moment = moment or datetime.now(UTC)
        self._roll(moment)
        limits = daily_limits()
        return QuotaStatus(
            day=pacific_day(moment),
            units_used=self.units,
            units_limit=limits[UNITS],
            uploads_used=self.uploads,
            uploads_limit=limits[UPLOADS],
            resets_at=next_reset(moment),
            exhausted=tuple(sorted(self.exhausted)),
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "day": self.day,
            UNITS: self.units,
            UPLOADS: self.uploads,
            "exhausted": sorted(self.exhausted),
        }


def _whole(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
