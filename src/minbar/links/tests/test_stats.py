"""stats.py on hand-computed fixtures: local-day buckets across zones and DST, groups, edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from minbar.links import actions, stats
from minbar.links.models import Click

from .helpers import PHONE_UA, make_link, write

# (name, UTC time, ip) — A and B share a visitor within UTC day 7 March.
CLICKS = [
    ("G", datetime(2026, 3, 7, 18, 20, tzinfo=UTC), "192.0.2.7"),
    ("A", datetime(2026, 3, 7, 20, 30, tzinfo=UTC), "192.0.2.1"),
    ("B", datetime(2026, 3, 7, 21, 10, tzinfo=UTC), "192.0.2.1"),
    ("C", datetime(2026, 3, 8, 4, 30, tzinfo=UTC), "192.0.2.3"),  # NY: 23:30 EST on the 7th
    ("D", datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "192.0.2.4"),  # NY: 03:30 EDT on the 8th
    ("E", datetime(2026, 3, 9, 3, 59, tzinfo=UTC), "192.0.2.5"),  # NY: 23:59 EDT on the 8th
    ("F", datetime(2026, 3, 9, 4, 0, tzinfo=UTC), "192.0.2.6"),  # NY: midnight of the 9th
]


@pytest.fixture
def clicks(world):
    link = make_link(world.alice)
    for name, at, ip in CLICKS:
        write(link, at, click_id=name, ip=ip, referrer="t.co" if name in "AB" else "")
    return link


def _days(zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return datetime(2026, 3, 7, tzinfo=tz), datetime(2026, 3, 10, tzinfo=tz)


@pytest.mark.parametrize(
    ("zone", "clicks_per_day", "visitors_per_day"),
    [
        ("UTC", [3, 2, 2], [2, 2, 2]),
        ("Asia/Riyadh", [2, 3, 2], [2, 2, 2]),
        ("America/New_York", [4, 2, 1], [3, 2, 1]),  # 8 March is 23 hours long there
        ("Asia/Kolkata", [1, 4, 2], [1, 3, 2]),  # +05:30: bucketed from raw clicks
    ],
)
def test_daily_buckets_in_the_time_zone_asked_for(
    world, clicks, zone, clicks_per_day, visitors_per_day
):
    start, end = _days(zone)
    buckets = stats.series(world.acme.pk, start, end, bucket="day", tz=zone)
    assert [b.start.date().isoformat() for b in buckets] == [
        "2026-03-07",
        "2026-03-08",
        "2026-03-09",
    ]
    assert all(b.start.hour == 0 and b.start.tzinfo == ZoneInfo(zone) for b in buckets)
    assert [b.totals.clicks for b in buckets] == clicks_per_day
    assert [b.totals.visitors for b in buckets] == visitors_per_day


def test_whole_hour_zones_read_the_rollup_and_half_hour_zones_the_raw_clicks(world, clicks):
    start, end = _days("Asia/Riyadh")
    assert stats.whole_hour_zone(ZoneInfo("America/New_York"), start, end)
    assert stats.whole_hour_zone(ZoneInfo("Asia/Riyadh"), start, end)
    assert not stats.whole_hour_zone(ZoneInfo("Asia/Kolkata"), start, end)
    # The rollup answers the same as the raw rows would: delete the raw rows and ask again.
    before = [b.totals.clicks for b in stats.series(world.acme.pk, start, end, tz="Asia/Riyadh")]
    Click.objects.all().delete()
    after = [b.totals.clicks for b in stats.series(world.acme.pk, start, end, tz="Asia/Riyadh")]
    assert before == after == [2, 3, 2]


def test_hourly_buckets_across_the_end_of_daylight_saving_time(world):
    link = make_link(world.alice)
    # 1 November 2026, New York: 01:00-02:00 happens twice (EDT, then EST).
    write(link, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), click_id="edt", ip="192.0.2.1")
    write(link, datetime(2026, 11, 1, 6, 30, tzinfo=UTC), click_id="est", ip="192.0.2.2")
    tz = ZoneInfo("America/New_York")
    start, end = datetime(2026, 11, 1, tzinfo=tz), datetime(2026, 11, 2, tzinfo=tz)
    buckets = stats.series(world.acme.pk, start, end, bucket="hour", tz=tz)
    assert len(buckets) == 25
    ones = [b for b in buckets if b.start.hour == 1]
    assert len(ones) == 2 and [b.totals.clicks for b in ones] == [1, 1]
    assert [b.start.utcoffset() for b in ones] == [timedelta(hours=-4), timedelta(hours=-5)]
    days = stats.series(world.acme.pk, start, end, bucket="day", tz=tz)
    assert [b.totals.clicks for b in days] == [2]


def test_ranges_with_partial_hours_are_exact(world, clicks):
    ws = world.acme.pk
    everything = stats.totals(
        ws, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    assert everything.clicks == 7 and everything.visitors == 6
    # 20:45 → 04:15: B (21:10) only; A at 20:30 and C at 04:30 fall outside.
    middle = stats.totals(
        ws, datetime(2026, 3, 7, 20, 45, tzinfo=UTC), datetime(2026, 3, 8, 4, 15, tzinfo=UTC)
    )
    assert (middle.clicks, middle.visitors) == (1, 0)
    # [start, end): a click exactly at the end is left out, one exactly at the start is in.
    edge = stats.totals(
        ws, datetime(2026, 3, 9, 3, 59, tzinfo=UTC), datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    )
    assert edge.clicks == 1


def test_groups_by_referrer_device_and_link(world, clicks):
    other = make_link(world.alice, destination="https://shop.example.com/b")
    write(
        other,
        datetime(2026, 3, 8, 12, tzinfo=UTC),
        click_id="M",
        ip="192.0.2.9",
        ua=PHONE_UA,
        ua_class="mobile",
    )
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    by_referrer = {
        r.key: r.totals.clicks for r in stats.breakdown(world.acme.pk, start, end, by="referrer")
    }
    assert by_referrer == {"": 6, "t.co": 2}
    by_device = {
        r.key: r.totals.clicks for r in stats.breakdown(world.acme.pk, start, end, by="ua_class")
    }
    assert by_device == {"desktop": 7, "mobile": 1}
    by_link = [
        (r.key, r.totals.clicks) for r in stats.breakdown(world.acme.pk, start, end, by="link")
    ]
    assert by_link == [(clicks.pk, 7), (other.pk, 1)]
    with pytest.raises(ValueError):
        stats.breakdown(world.acme.pk, start, end, by="colour")


def test_groups_by_channel_post_tag_and_campaign_with_conversions(world):
    from minbar.channels.models import Channel
    from minbar.links.autolink import link_for
    from minbar.publishing.models import Post

    x = Channel.objects.create(workspace=world.acme, network="x", remote_id="1", handle="acme_x")
    fb = Channel.objects.create(
        workspace=world.acme, network="facebook", remote_id="2", handle="acme_fb"
    )
    sale = Post.objects.create(workspace=world.acme, text="a", tags=["sale", "spring"])
    plain = Post.objects.create(workspace=world.acme, text="b", tags=[])
    on_x = link_for(sale, x.pk, "x", "https://shop.example.com/")
    on_fb = link_for(sale, fb.pk, "facebook", "https://shop.example.com/")
    plain_x = link_for(plain, x.pk, "x", "https://shop.example.com/")
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for n, link in enumerate([on_x, on_x, on_fb, plain_x]):
        write(link, at + timedelta(minutes=n), click_id=f"k{n}", ip=f"192.0.2.{n}")
    actions.record_conversion(
        world.acme,
        actions.ConversionInput(
            "purchase", Decimal("20"), "USD", "o1", ("k0",), at + timedelta(hours=1)
        ),
        source="server",
    )
    start, end = at - timedelta(days=1), at + timedelta(days=1)
    ws = world.acme.pk
    channel = {
        r.key: (r.totals.clicks, r.totals.conversions)
        for r in stats.breakdown(ws, start, end, by="channel")
    }
    assert channel == {x.pk: (3, 1), fb.pk: (1, 0)}
    post = {r.key: r.totals.clicks for r in stats.breakdown(ws, start, end, by="post")}
    assert post == {sale.pk: 3, plain.pk: 1}
    tag = {
        r.key: (r.totals.clicks, r.totals.revenue)
        for r in stats.breakdown(ws, start, end, by="tag")
    }
    assert tag == {
        "sale": (3, {"USD": Decimal("20.00")}),
        "spring": (3, {"USD": Decimal("20.00")}),
        "": (1, {}),
    }
    campaign = {r.key: r.totals.clicks for r in stats.breakdown(ws, start, end, by="campaign")}
    assert campaign == {"sale": 3, "": 1}

    # The analytics dashboards read the same numbers through their provider interface.
    from zoneinfo import ZoneInfo

    from minbar.analytics.providers import LinkScope, link_provider

    provider = link_provider()
    assert provider is stats.analytics_provider
    whole = provider.totals(LinkScope(ws), start, end)
    assert (whole.clicks, whole.conversions, whole.revenue) == (4, 1, Decimal("20.00"))
    assert provider.totals(LinkScope(ws, channel_ids=(fb.pk,)), start, end).clicks == 1
    assert provider.totals(LinkScope(ws, post_id=plain.pk), start, end).clicks == 1
    tagged = provider.totals(LinkScope(ws, tag="spring"), start, end)
    assert (tagged.clicks, tagged.conversions) == (3, 1)
    per_channel = provider.by_channel(LinkScope(ws, tag="sale"), start, end)
    assert {k: v.clicks for k, v in per_channel.items()} == {x.pk: 2, fb.pk: 1}
    days = provider.daily(LinkScope(ws), start, end, ZoneInfo("Asia/Riyadh"))
    assert days[date(2026, 5, 1)].clicks == 4
    assert sum(v.clicks for v in days.values()) == 4
    assert (
        on_x.utm_source == "x" and on_x.utm_medium == "social" and on_x.utm_content == str(sale.pk)
    )


def test_conversions_and_revenue_are_bucketed_in_the_zone(world):
    riyadh = ZoneInfo("Asia/Riyadh")
    for n, (at, value, currency) in enumerate(
        [
            (datetime(2026, 3, 7, 22, 0, tzinfo=UTC), "10", "SAR"),  # 8 March in Riyadh
            (datetime(2026, 3, 7, 20, 59, tzinfo=UTC), "5", "SAR"),  # 7 March, 23:59
            (datetime(2026, 3, 8, 10, 0, tzinfo=UTC), "7.25", "USD"),
        ]
    ):
        actions.record_conversion(
            world.acme,
            actions.ConversionInput("purchase", Decimal(value), currency, f"o{n}", (), at),
            source="server",
        )
    buckets = stats.series(
        world.acme.pk,
        datetime(2026, 3, 7, tzinfo=riyadh),
        datetime(2026, 3, 9, tzinfo=riyadh),
        tz=riyadh,
    )
    assert [b.totals.conversions for b in buckets] == [1, 2]
    assert buckets[0].totals.revenue == {"SAR": Decimal("5.00")}
    assert buckets[1].totals.revenue == {"SAR": Decimal("10.00"), "USD": Decimal("7.25")}


def test_per_contact_totals_for_referral_links(world):
    from minbar.core.actor import Actor
    from minbar.inbox.models import Contact
    from minbar.workspaces.access import access_for

    sara = Contact.objects.create(workspace=world.acme, network="x", remote_id="s", handle="@sara")
    omar = Contact.objects.create(workspace=world.acme, network="x", remote_id="o", handle="@omar")
    access = access_for(world.alice, "acme")
    sara_link = actions.referral_link(
        Actor(user=world.alice), access, sara.pk, "https://shop.example.com/"
    )
    assert (
        actions.referral_link(Actor(user=world.alice), access, sara.pk, "https://shop.example.com/")
        == sara_link
    )
    omar_link = actions.referral_link(
        Actor(user=world.alice), access, omar.pk, "https://shop.example.com/"
    )
    at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    for n in range(3):
        write(sara_link, at + timedelta(minutes=n), click_id=f"s{n}", ip=f"192.0.2.{n}")
    write(omar_link, at, click_id="o0", ip="192.0.2.50")
    actions.record_conversion(
        world.acme,
        actions.ConversionInput(
            "purchase", Decimal("30"), "SAR", "r1", ("s2",), at + timedelta(days=1)
        ),
        source="server",
    )
    totals = stats.contact_totals(world.acme.pk)
    assert (totals[sara.pk].clicks, totals[sara.pk].conversions) == (3, 1)
    assert totals[sara.pk].revenue == {"SAR": Decimal("30.00")}
    assert (totals[omar.pk].clicks, totals[omar.pk].conversions) == (1, 0)
    assert totals[sara.pk].conversion_rate == pytest.approx(1 / 3)
    only_omar = stats.contact_totals(world.acme.pk, contact_ids=[omar.pk])
    assert list(only_omar) == [omar.pk]


def test_another_workspace_sees_none_of_these_clicks(world, clicks):
    start, end = _days("UTC")
    assert stats.totals(world.globex.pk, start, end).clicks == 0
