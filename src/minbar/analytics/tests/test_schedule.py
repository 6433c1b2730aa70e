"""The decaying schedule: +1 h, +6 h, +24 h, +3 d, +7 d, +30 d after publication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from minbar.analytics import schedule

PLAN = schedule.parse(schedule.DEFAULT)
OUT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_the_default_plan():
    assert [p.total_seconds() / 3600 for p in PLAN] == [1, 6, 24, 72, 168, 720]


def test_each_snapshot_plans_the_next_step():
    moments = []
    step = 0
    due: datetime | None = schedule.first_due(OUT, PLAN)
    while due is not None:
        moments.append(due - OUT)
        step, due = schedule.next_step(OUT, step, due, PLAN)
    assert moments == list(PLAN)
    assert step == len(PLAN)


def test_a_post_found_late_gets_one_snapshot_then_the_steps_still_ahead():
    late = OUT + timedelta(days=4)  # +1 h, +6 h, +24 h and +3 d have passed
    step, due = schedule.next_step(OUT, 0, late, PLAN)
    assert step == 4
    assert due == OUT + timedelta(days=7)


def test_after_the_last_step_nothing_is_due():
    assert schedule.next_step(OUT, 5, OUT + timedelta(days=30), PLAN) == (6, None)


def test_a_custom_plan_in_minutes_hours_and_days():
    assert schedule.parse("30m, 2h,1d") == (
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(days=1),
    )


@pytest.mark.parametrize("text", ["1h,1h", "6h,1h", "soon", "1w", "0h,1h", ""])
def test_a_bad_plan_says_what_is_wrong(text):
    with pytest.raises(ImproperlyConfigured, match="MINBAR_ANALYTICS_SCHEDULE"):
        schedule.parse(text)


def test_the_setting_is_read(settings):
    settings.MINBAR_ANALYTICS_SCHEDULE = "2h,2d"
    assert schedule.offsets() == (timedelta(hours=2), timedelta(days=2))
