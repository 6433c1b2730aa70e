"""When scheduled reports are due, across daylight-saving changes, and what they cover."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from minbar.reports.timing import covered_period, next_run

RIYADH = ZoneInfo("Asia/Riyadh")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def weekly(weekday: int, hour: int, zone: ZoneInfo, after: datetime) -> datetime:
    return next_run("weekly", weekday=weekday, day_of_month=1, hour=hour, zone=zone, after=after)


def monthly(day: int, hour: int, zone: ZoneInfo, after: datetime) -> datetime:
    return next_run("monthly", weekday=0, day_of_month=day, hour=hour, zone=zone, after=after)


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_weekly_report_in_riyadh_is_due_at_the_local_hour_all_year():
    # Riyadh is UTC+3 with no daylight saving: Sunday 08:00 is always 05:00 UTC.
    assert weekly(6, 8, RIYADH, utc(2026, 11, 26, 12)) == utc(2026, 11, 29, 5)
    assert weekly(6, 8, RIYADH, utc(2027, 6, 1)) == utc(2027, 6, 6, 5)


def test_weekly_report_due_later_today_is_today_and_once_sent_is_next_week():
    thursday_morning = utc(2026, 11, 26, 5)  # 08:00 in Riyadh, a Thursday
    assert weekly(3, 9, RIYADH, thursday_morning) == utc(2026, 11, 26, 6)
    assert weekly(3, 9, RIYADH, utc(2026, 11, 26, 6)) == utc(2026, 12, 3, 6)


def test_london_report_follows_the_clock_change_in_march():
    # Clocks go forward on Sunday 28 March 2027: Monday 09:00 is 09:00 UTC before, 08:00 after.
    before = weekly(0, 9, LONDON, utc(2027, 3, 20))
    after = weekly(0, 9, LONDON, before)
    assert before == utc(2027, 3, 22, 9)
    assert after == utc(2027, 3, 29, 8)


def test_london_hour_skipped_by_the_clock_change_is_sent_just_after_the_gap():
    # 01:00 does not exist on 28 March 2027 in London; the report goes at 02:00 BST.
    assert weekly(6, 1, LONDON, utc(2027, 3, 27)) == utc(2027, 3, 28, 1)
    assert utc(2027, 3, 28, 1).astimezone(LONDON).hour == 2


def test_new_york_hour_that_happens_twice_is_sent_the_first_time_only():
    # 01:00 happens twice on Sunday 1 November 2026 (EDT, then EST).
    first = weekly(6, 1, NEW_YORK, utc(2026, 10, 31))
    assert first == utc(2026, 11, 1, 5)  # 01:00 EDT
    # Asked again right after the first send: next week, not an hour later.
    assert weekly(6, 1, NEW_YORK, first) == utc(2026, 11, 8, 6)  # 01:00 EST


def test_new_york_hour_in_the_spring_gap_is_sent_at_three():
    # 02:00 does not exist on 14 March 2027 in New York: sent at 03:00 EDT (07:00 UTC).
    due = weekly(6, 2, NEW_YORK, utc(2027, 3, 13))
    assert due == utc(2027, 3, 14, 7)
    assert due.astimezone(NEW_YORK).hour == 3


def test_monthly_report_on_the_31st_goes_on_the_last_day_of_shorter_months():
    assert monthly(31, 9, RIYADH, utc(2027, 2, 1)) == utc(2027, 2, 28, 6)
    assert monthly(31, 9, RIYADH, utc(2027, 2, 28, 6)) == utc(2027, 3, 31, 6)


def test_monthly_report_crosses_the_year_and_the_clock_change():
    assert monthly(1, 9, NEW_YORK, utc(2026, 12, 15)) == utc(2027, 1, 1, 14)  # EST
    assert monthly(1, 9, NEW_YORK, utc(2027, 3, 15)) == utc(2027, 4, 1, 13)  # EDT


def test_weekly_report_covers_the_seven_days_before_the_day_it_is_sent():
    period = covered_period("weekly", date(2026, 11, 30), LONDON)  # a Monday
    assert (period.first_day, period.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    sunday = covered_period("weekly", date(2026, 11, 29), RIYADH)
    assert (sunday.first_day, sunday.last_day) == (date(2026, 11, 22), date(2026, 11, 28))


def test_monthly_report_covers_the_previous_calendar_month():
    period = covered_period("monthly", date(2027, 3, 1), NEW_YORK)
    assert (period.first_day, period.last_day) == (date(2027, 2, 1), date(2027, 2, 28))
    january = covered_period("monthly", date(2027, 1, 31), NEW_YORK)
    assert (january.first_day, january.last_day) == (date(2026, 12, 1), date(2026, 12, 31))
