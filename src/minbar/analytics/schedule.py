"""The decaying schedule: when a published post's counters are fetched.

Most engagement comes in a post's first hours, so snapshots are dense early and
sparse later: by default 1 hour, 6 hours, 1 day, 3 days, 7 days and 30 days after
publication (``MINBAR_ANALYTICS_SCHEDULE``). A post found late (Minbar was down,
or analytics was installed after it went out) gets one snapshot at once and then
follows the steps still ahead; steps already passed are not replayed.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT = "1h,6h,24h,3d,7d,30d"
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_STEP = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse(text: str) -> tuple[timedelta, ...]:
    """``"1h,6h,3d"`` -> offsets; a clear error for anything else."""
    offsets: list[timedelta] = []
    for part in text.split(","):
        match = _STEP.match(part)
        if not match:
            raise ImproperlyConfigured(
                f"MINBAR_ANALYTICS_SCHEDULE: {part.strip()!r} is not a duration such as "
                "30m, 6h or 7d (the whole setting is a comma-separated list, e.g. "
                f"{DEFAULT})"
            )
        offsets.append(timedelta(seconds=int(match[1]) * _UNITS[match[2]]))
    if any(b <= a for a, b in itertools.pairwise(offsets)) or offsets[0].total_seconds() <= 0:
        raise ImproperlyConfigured(
            f"MINBAR_ANALYTICS_SCHEDULE must list increasing durations above zero (got {text!r})"
        )
    return tuple(offsets)


def offsets() -> tuple[timedelta, ...]:
    return parse(getattr(settings, "MINBAR_ANALYTICS_SCHEDULE", "") or DEFAULT)


def next_step(
    published_at: datetime, step: int, now: datetime, plan: tuple[timedelta, ...]
) -> tuple[int, datetime | None]:
    """After a snapshot taken at ``now`` as step ``step``: the next step and when it is due.

    Steps whose time has already passed are skipped (one snapshot covers them).
    Returns ``(len(plan), None)`` when the schedule is done.
    """
    following = step + 1
    while following < len(plan) and published_at + plan[following] <= now:
        following += 1
    if following >= len(plan):
        return len(plan), None
    return following, published_at + plan[following]


def first_due(published_at: datetime, plan: tuple[timedelta, ...]) -> datetime:
    return published_at + plan[0]
