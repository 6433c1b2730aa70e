"""When a scheduled report is due, and which days it covers, in the workspace's time zone.

A report is due at a wall-clock hour in the workspace's zone. On the day clocks
go forward, an hour that does not exist (02:00 in New York) is sent at the
first moment after the gap (03:00); on the day they go back, an hour that
happens twice is sent the first time only.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from minbar.analytics.reports import Period
from minbar.reports.models import Frequency


def local_run(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour``:00 on ``day`` in ``zone``, in UTC.

    ``fold=0`` takes the offset in force before a transition: inside a gap that
    lands on the first instant after it, inside an overlap on the first occurrence.
    """
    return datetime.combine(day, time(hour), zone).replace(fold=0).astimezone(UTC)


def _month_day(year: int, month: int, day_of_month: int) -> date:
    """``day_of_month`` of that month, or its last day when the month is shorter."""
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def next_run(
    frequency: str,
    *,
    weekday: int,
    day_of_month: int,
    hour: int,
    zone: ZoneInfo,
    after: datetime,
) -> datetime:
    """The first moment strictly after ``after`` at which the report is due (UTC)."""
    today = after.astimezone(zone).date()
    if frequency == Frequency.WEEKLY:
        candidates = [
            today + timedelta(days=i)
            for i in range(-1, 9)
            if (today + timedelta(days=i)).weekday() == weekday
        ]
    else:
        candidates = [_month_day(*_add_months(today, m), day_of_month) for m in (-1, 0, 1, 2)]
    for day in candidates:
        run = local_run(day, hour, zone)
        if run > after:
            return run
    raise AssertionError("a weekly or monthly report is always due within two months")


def covered_period(frequency: str, run_day: date, zone: ZoneInfo) -> Period:
    """The whole days a report sent on ``run_day`` covers.

    Weekly: the seven days before ``run_day`` (a Monday report covers Monday to
    Sunday, a Sunday one Sunday to Saturday). Monthly: the previous calendar month.
    """
    if frequency == Frequency.WEEKLY:
        last = run_day - timedelta(days=1)
        return Period(last - timedelta(days=6), last, zone)
    last = run_day.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last, zone)
