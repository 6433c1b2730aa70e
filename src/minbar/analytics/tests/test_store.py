"""The metric store: rollups that follow the events, sums that match the raw events, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.utils import timezone

from minbar.analytics import reports
from minbar.analytics.models import MetricEvent, PostTag, Rollup, Watermark
from minbar.analytics.store import LAG, Event, OrmMetricStore, Scope, hour_of
from minbar.analytics.tests.helpers import fake_channel, install_fake_networks
from minbar.workspaces.access import access_for


@pytest.fixture
def setup(world, monkeypatch):
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    echo = fake_channel(world.acme, "echo", "@acme.echo")
    return world, pulse, echo


def event(channel, when: datetime, metric: str, value: int, post_id: int = 1) -> Event:
    return Event(
        workspace_id=channel.workspace_id,
        channel_id=channel.pk,
        post_id=post_id,
        target_id=post_id,
        metric=metric,
        occurred_at=when,
        value=value,
    )


def rolled(store: OrmMetricStore) -> None:
    """A pass that takes every event written so far (as if LAG had passed, and no more)."""
    store.roll_up(timezone.now() + LAG)


def raw_sum(workspace_id: int, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
    return {
        (row["channel_id"], row["metric"]): row["n"]
        for row in MetricEvent.objects.filter(
            workspace_id=workspace_id, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("channel_id", "metric")
        .annotate(n=Sum("value"))
    }


def flat(by_channel: dict[int, dict[str, int]]) -> dict[tuple[int, str], int]:
    return {(c, m): v for c, values in by_channel.items() for m, v in values.items() if v}


def test_totals_from_rollups_equal_the_raw_events_for_any_range(setup):
    world, pulse, echo = setup
    store = OrmMetricStore()
    base = datetime(2026, 3, 1, tzinfo=UTC)
    events = []
    for i in range(0, 24 * 20, 5):  # every 5 hours for 20 days, at :17 past
        when = base + timedelta(hours=i, minutes=17)
        events.append(event(pulse, when, "likes", i % 7 + 1))
        events.append(event(pulse, when, "impressions", 100 + i))
        events.append(event(echo, when, "shares", 2))
    store.record(events)
    rolled(store)
    scope = Scope(world.acme.pk)
    # Whole days, hour edges, and the half hours of a +05:30 zone.
    for start, end in [
        (base, base + timedelta(days=20)),
        (base + timedelta(hours=3), base + timedelta(days=9, hours=21)),
        (base + timedelta(hours=18, minutes=30), base + timedelta(days=4, hours=18, minutes=30)),
        (base + timedelta(hours=2, minutes=10), base + timedelta(hours=2, minutes=40)),
    ]:
        assert flat(store.totals_by_channel(scope, start, end)) == raw_sum(
            world.acme.pk, start, end
        )
    assert Rollup.objects.filter(grain="d").exists()


def test_rollups_follow_new_events_through_the_watermark(setup):
    world, pulse, _echo = setup
    store = OrmMetricStore()
    when = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
    store.record([event(pulse, when, "likes", 3)])
    now = timezone.now()
    assert store.roll_up(now) == 0  # written less than LAG ago: waits for the next pass
    assert store.roll_up(now + LAG) == 1
    store.record([event(pulse, when + timedelta(minutes=20), "likes", 4)])
    rolled(store)
    hourly = store.hourly(Scope(world.acme.pk), when, when + timedelta(hours=1))
    assert hourly == {hour_of(when): {"likes": 7}}
    # A repeat pass changes nothing.
    before = list(Rollup.objects.values_list("grain", "bucket", "metric", "value").order_by("pk"))
    store.roll_up(timezone.now() + LAG * 3)
    after = list(Rollup.objects.values_list("grain", "bucket", "metric", "value").order_by("pk"))
    assert sorted(before) == sorted(after)


def test_a_second_worker_leaves_rollups_to_the_one_holding_the_lease(setup):
    _world, pulse, _echo = setup
    store = OrmMetricStore()
    store.record([event(pulse, datetime(2026, 3, 2, 10, tzinfo=UTC), "likes", 3)])
    Watermark.objects.create(name="rollups", lease_until=timezone.now() + timedelta(minutes=5))
    assert store.roll_up(timezone.now() + LAG * 2) == 0
    assert not Rollup.objects.exists()


def test_rebuild_gives_the_same_rollups_as_the_passes(setup):
    _world, pulse, echo = setup
    store = OrmMetricStore()
    base = datetime(2026, 3, 1, tzinfo=UTC)
    store.record([event(pulse, base + timedelta(hours=h), "likes", h) for h in range(1, 60)])
    rolled(store)
    store.record([event(echo, base + timedelta(hours=h), "shares", 1) for h in range(30, 90)])
    rolled(store)
    cells = ("grain", "bucket", "channel_id", "tag", "metric", "value")
    incremental = sorted(Rollup.objects.values_list(*cells), key=str)
    assert any(row[2] is None for row in incremental)  # the all-channels hour rows
    store.rebuild()
    assert sorted(Rollup.objects.values_list(*cells), key=str) == incremental


def test_tag_rollups_sum_only_tagged_posts(setup):
    world, pulse, _echo = setup
    store = OrmMetricStore()
    PostTag.objects.create(workspace=world.acme, post_id=1, tag="launch")
    when = datetime(2026, 3, 2, 10, tzinfo=UTC)
    store.record(
        [event(pulse, when, "likes", 5, post_id=1), event(pulse, when, "likes", 7, post_id=2)]
    )
    rolled(store)
    window = (when, when + timedelta(days=2))
    assert store.totals_by_channel(Scope(world.acme.pk, tag="launch"), *window) == {
        pulse.pk: {"likes": 5}
    }
    assert store.totals_by_channel(Scope(world.acme.pk), *window) == {pulse.pk: {"likes": 12}}
    assert store.totals_by_channel(Scope(world.acme.pk, post_id=2), *window) == {
        pulse.pk: {"likes": 7}
    }


# -- daily buckets in the viewer's time zone --------------------------------------------

# (zone, the UTC moment, the local day it belongs to)
ZONE_CASES = [
    # Riyadh is UTC+3 all year: 21:30 UTC is 00:30 the next day.
    ("Asia/Riyadh", datetime(2026, 3, 8, 21, 30, tzinfo=UTC), date(2026, 3, 9)),
    ("Asia/Riyadh", datetime(2026, 3, 8, 20, 30, tzinfo=UTC), date(2026, 3, 8)),
    # London springs forward on 29 March 2026 (a 23-hour day) and falls back on 25 October.
    ("Europe/London", datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
    ("Europe/London", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), date(2026, 3, 29)),
    ("Europe/London", datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),  # 00:30 BST
    ("Europe/London", datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # BST
    ("Europe/London", datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # GMT again
    # New York springs forward on 8 March 2026 and falls back on 1 November.
    ("America/New_York", datetime(2026, 3, 8, 4, 30, tzinfo=UTC), date(2026, 3, 7)),  # 23:30 EST
    ("America/New_York", datetime(2026, 3, 8, 5, 30, tzinfo=UTC), date(2026, 3, 8)),  # 00:30 EST
    ("America/New_York", datetime(2026, 3, 9, 3, 30, tzinfo=UTC), date(2026, 3, 8)),  # 23:30 EDT
    ("America/New_York", datetime(2026, 11, 1, 4, 30, tzinfo=UTC), date(2026, 11, 1)),  # 00:30 EDT
    ("America/New_York", datetime(2026, 11, 2, 4, 30, tzinfo=UTC), date(2026, 11, 1)),  # 23:30 EST
]


@pytest.mark.parametrize(("zone", "moment", "local_day"), ZONE_CASES)
def test_daily_buckets_follow_the_viewer_s_zone_across_daylight_saving(
    setup, zone, moment, local_day
):
    world, pulse, _echo = setup
    store = OrmMetricStore()
    store.record([event(pulse, moment, "likes", 4), event(pulse, moment, "impressions", 90)])
    rolled(store)
    tz = ZoneInfo(zone)
    period = reports.Period(local_day - timedelta(days=1), local_day + timedelta(days=1), tz)
    access = access_for(world.alice, "acme")
    result = reports.overview(access, reports.resolve_scope(access), period)
    by_day = {p.day: p.engagements for p in result.daily}
    assert by_day == {
        local_day - timedelta(days=1): 0,
        local_day: 4,
        local_day + timedelta(days=1): 0,
    }
    weekday_hour = moment.astimezone(tz)
    assert result.heatmap[weekday_hour.weekday()][weekday_hour.hour] == 4
    # The day alone, as a one-day period, counts it; the days around it do not.
    one_day = reports.Period(local_day, local_day, tz)
    alone = reports.overview(access, reports.resolve_scope(access), one_day)
    assert next(k for k in alone.kpis if k.key == "engagements").value == 4
    assert next(k for k in alone.kpis if k.key == "impressions").value == 90


def test_a_23_hour_day_is_a_day(setup):
    period = reports.Period(date(2026, 3, 29), date(2026, 3, 29), ZoneInfo("Europe/London"))
    assert period.end - period.start == timedelta(hours=23)
    assert period.previous.first_day == date(2026, 3, 28)
