"""Clicks, unique visitors, conversions and revenue for dashboards (the analytics app reads here).

Every function takes a workspace id and a half-open range ``[start, end)`` of
aware datetimes. Click counts come from the hourly rollup (``ClickHour``) for the
whole hours inside the range and from the raw clicks for the partial hours at its
edges, so any range is exact. Buckets are days or hours *in the time zone given*:
for zones whose offset is a whole number of hours (Asia/Riyadh, America/New_York
across daylight saving time, …) UTC hours fall wholly into one local day; for the
few others (Asia/Kolkata, +05:30) the raw clicks are bucketed instead.

Unique visitors are an estimate: a visitor is the keyed hash of IP address and
user agent, which changes every UTC day, counted once per link and UTC day. A
total over several days or links is the sum of those daily, per-link counts.

Revenue is kept per currency, never converted or summed across currencies.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Trunc

from minbar.analytics.providers import LinkScope, LinkTotals
from minbar.links.models import Click, ClickDay, ClickHour, Conversion

BucketKind = Literal["day", "hour"]
GROUPS: dict[str, str] = {
    "channel": "channel_id",
    "post": "post_id",
    "link": "link_id",
    "campaign": "link__utm_campaign",
    "tag": "post_id",  # expanded to the post's tags
    "referrer": "referrer_host",
    "ua_class": "ua_class",
    "contact": "contact_id",
}
# The same groups on conversions (through the attributed click where needed).
_CONVERSION_GROUPS: dict[str, str] = {
    "channel": "channel_id",
    "post": "post_id",
    "link": "link_id",
    "campaign": "campaign",
    "tag": "post_id",
    "referrer": "click__referrer_host",
    "ua_class": "click__ua_class",
    "contact": "contact_id",
}


@dataclass
class Totals:
    clicks: int = 0
    visitors: int = 0
    conversions: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)

    def add_clicks(self, clicks: int, visitors: int) -> None:
        self.clicks += int(clicks or 0)
        self.visitors += int(visitors or 0)

    def add_conversions(self, count: int, currency: str, value: Decimal | None) -> None:
        self.conversions += int(count or 0)
        if currency and value is not None:
            # SQLite sums decimals as floats: back to cents.
            cents = Decimal(value).quantize(Decimal("0.01"))
            self.revenue[currency] = self.revenue.get(currency, Decimal("0.00")) + cents

    @property
    def conversion_rate(self) -> float | None:
        """Conversions per click; None without clicks (not 0)."""
        return self.conversions / self.clicks if self.clicks else None


@dataclass
class Bucket:
    start: datetime  # aware, in the zone asked for
    totals: Totals = field(default_factory=Totals)


@dataclass
class Row:
    key: Any  # the group's value: an id, a host name, a tag, a device class
    totals: Totals = field(default_factory=Totals)


def _zone(tz: str | tzinfo) -> tzinfo:
    return zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def whole_hour_zone(zone: tzinfo, start: datetime, end: datetime) -> bool:
    """True when UTC hours fall wholly into one local hour and day throughout the range."""
    moments = [start, end, start + (end - start) / 2]
    return all(
        (zone.utcoffset(m.astimezone(zone)) or timedelta(0)) % timedelta(hours=1) == timedelta(0)
        for m in moments
    )


@dataclass(frozen=True)
class _Part:
    rows: QuerySet[Any]
    time_field: str
    clicks: Any
    visitors: Any


def _click_parts(
    workspace_id: int, start: datetime, end: datetime, *, use_rollup: bool, scope: Q
) -> Iterator[_Part]:
    """The rollup for whole hours inside the range, raw clicks for the rest."""

    def raw(a: datetime, b: datetime) -> _Part:
        rows = Click.objects.filter(scope, workspace_id=workspace_id, clicked_at__gte=a)
        return _Part(
            rows.filter(clicked_at__lt=b),
            "clicked_at",
            Count("id"),
            Count("id", filter=Q(first_of_day=True)),
        )

    if start >= end:
        return
    first, last = _ceil_hour(start), _floor_hour(end)
    if not use_rollup or first >= last:
        yield raw(start, end)
        return
    if start < first:
        yield raw(start, first)
    yield _Part(
        ClickHour.objects.filter(scope, workspace_id=workspace_id, hour__gte=first, hour__lt=last),
        "hour",
        Sum("clicks"),
        Sum("visitors"),
    )
    if last < end:
        yield raw(last, end)


def _scope(link_id: int | None, contact_id: int | None) -> Q:
    scope = Q()
    if link_id is not None:
        scope &= Q(link_id=link_id)
    if contact_id is not None:
        scope &= Q(contact_id=contact_id)
    return scope


def _conversions(
    workspace_id: int, start: datetime, end: datetime, scope: Q
) -> QuerySet[Conversion]:
    return Conversion.objects.filter(
        scope, workspace_id=workspace_id, occurred_at__gte=start, occurred_at__lt=end
    )


def _bucket_key(moment: datetime, zone: tzinfo, kind: BucketKind) -> datetime:
    """The UTC instant the local bucket holding ``moment`` starts at."""
    local = moment.astimezone(zone)
    if kind == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    return datetime.combine(local.date(), time(0), zone).astimezone(UTC)


def _bucket_starts(
    start: datetime, end: datetime, zone: tzinfo, kind: BucketKind
) -> list[datetime]:
    if kind == "hour":
        moment, out = _bucket_key(start, zone, "hour"), []
        while moment < end:
            out.append(moment)
            moment += timedelta(hours=1)
        return out
    day: date = start.astimezone(zone).date()
    out = []
    while True:
        first = datetime.combine(day, time(0), zone).astimezone(UTC)
        if first >= end:
            break
        out.append(first)
        day += timedelta(days=1)
    return out


def series(
    workspace_id: int,
    start: datetime,
    end: datetime,
    *,
    bucket: BucketKind = "day",
    tz: str | tzinfo = "UTC",
    link_id: int | None = None,
    contact_id: int | None = None,
    where: Q | None = None,
) -> list[Bucket]:
    """Clicks, visitors, conversions and revenue per local day (or hour), zeros included.

    Rows are grouped by UTC hour in the database (by minute in zones with
    half-hour offsets) and put into local buckets here, so a bucket is exact
    whatever the zone's daylight saving rules.
    """
    zone = _zone(tz)
    scope = _scope(link_id, contact_id) & (where or Q())
    whole = whole_hour_zone(zone, start, end)
    grain = "hour" if whole else "minute"
    buckets: dict[datetime, Bucket] = {
        key: Bucket(key.astimezone(zone)) for key in _bucket_starts(start, end, zone, bucket)
    }

    def slot(moment: datetime) -> Totals:
        key = _bucket_key(moment, zone, bucket)
        found = buckets.get(key)
        if found is None:
            found = buckets[key] = Bucket(key.astimezone(zone))
        return found.totals

    for part in _click_parts(workspace_id, start, end, use_rollup=whole, scope=scope):
        if part.time_field == "hour":
            grouped = part.rows.values(b=F("hour"))
        else:
            grouped = part.rows.annotate(b=Trunc(part.time_field, grain, tzinfo=UTC)).values("b")
        for row in grouped.annotate(c=part.clicks, v=part.visitors).order_by():
            slot(row["b"]).add_clicks(row["c"], row["v"])
    conversions = (
        _conversions(workspace_id, start, end, scope)
        .annotate(b=Trunc("occurred_at", grain, tzinfo=UTC))
        .values("b", "currency")
        .annotate(n=Count("id"), s=Sum("value"))
        .order_by()
    )
    for row in conversions:
        slot(row["b"]).add_conversions(row["n"], row["currency"], row["s"])
    return [buckets[k] for k in sorted(buckets)]


def _expand_tags(rows: dict[Any, Totals]) -> dict[Any, Totals]:
    from minbar.publishing.models import Post

    tags_of = {
        pk: [str(t) for t in (tags or [])]
        for pk, tags in Post.objects.filter(pk__in=[k for k in rows if k]).values_list("pk", "tags")
    }
    out: dict[Any, Totals] = defaultdict(Totals)
    for post_id, totals in rows.items():
        for tag in tags_of.get(post_id) or [""]:
            target = out[tag]
            target.add_clicks(totals.clicks, totals.visitors)
            target.conversions += totals.conversions
            for currency, value in totals.revenue.items():
                target.revenue[currency] = target.revenue.get(currency, Decimal("0")) + value
    return out


def breakdown(
    workspace_id: int,
    start: datetime,
    end: datetime,
    *,
    by: str,
    link_id: int | None = None,
    contact_id: int | None = None,
    where: Q | None = None,
) -> list[Row]:
    """Totals per channel, post, link, campaign, tag, referrer, ua_class or contact.

    Sorted by clicks, then conversions, most first. ``tag`` counts a post's clicks
    under each of its tags (the rows then add up to more than the total); posts
    without tags, and clicks on links of no post, are under the tag "".
    """
    if by not in GROUPS:
        raise ValueError(f"unknown group {by!r}; one of {', '.join(GROUPS)}")
    scope = _scope(link_id, contact_id) & (where or Q())
    name = GROUPS[by]
    rows: dict[Any, Totals] = defaultdict(Totals)
    for part in _click_parts(workspace_id, start, end, use_rollup=True, scope=scope):
        grouped = part.rows.values(name).annotate(c=part.clicks, v=part.visitors).order_by()
        for row in grouped:
            rows[row[name]].add_clicks(row["c"], row["v"])
    conversion_name = _CONVERSION_GROUPS[by]
    grouped_conversions = (
        _conversions(workspace_id, start, end, scope)
        .values(conversion_name, "currency")
        .annotate(n=Count("id"), s=Sum("value"))
        .order_by()
    )
    for row in grouped_conversions:
        rows[row[conversion_name]].add_conversions(row["n"], row["currency"], row["s"])
    if by == "tag":
        rows = _expand_tags(rows)
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1].clicks, -kv[1].conversions, str(kv[0])))
    return [Row(key, totals) for key, totals in ordered]


def totals(
    workspace_id: int,
    start: datetime,
    end: datetime,
    *,
    link_id: int | None = None,
    contact_id: int | None = None,
    where: Q | None = None,
) -> Totals:
    scope = _scope(link_id, contact_id) & (where or Q())
    result = Totals()
    for part in _click_parts(workspace_id, start, end, use_rollup=True, scope=scope):
        agg = part.rows.aggregate(c=part.clicks, v=part.visitors)
        result.add_clicks(agg["c"] or 0, agg["v"] or 0)
    for row in (
        _conversions(workspace_id, start, end, scope)
        .values("currency")
        .annotate(n=Count("id"), s=Sum("value"))
        .order_by()
    ):
        result.add_conversions(row["n"], row["currency"], row["s"])
    return result


def contact_totals(
    workspace_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    contact_ids: Iterable[int] | None = None,
) -> dict[int, Totals]:
    """Clicks, conversions and revenue credited to each contact through referral links.

    For the audience pages (customer value, indirect: referrals). Without a range,
    all time.
    """
    start = start or datetime(2000, 1, 1, tzinfo=UTC)
    end = end or datetime(9999, 1, 1, tzinfo=UTC)
    scope = Q(contact_id__isnull=False)
    if contact_ids is not None:
        scope &= Q(contact_id__in=list(contact_ids))
    out: dict[int, Totals] = defaultdict(Totals)
    for part in _click_parts(workspace_id, start, end, use_rollup=True, scope=scope):
        for row in (
            part.rows.values("contact_id").annotate(c=part.clicks, v=part.visitors).order_by()
        ):
            out[row["contact_id"]].add_clicks(row["c"], row["v"])
    for row in (
        _conversions(workspace_id, start, end, scope)
        .values("contact_id", "currency")
        .annotate(n=Count("id"), s=Sum("value"))
        .order_by()
    ):
        out[row["contact_id"]].add_conversions(row["n"], row["currency"], row["s"])
    return dict(out)


def daily_clicks(
    workspace_id: int, link_ids: Iterable[int], first: date, last: date
) -> dict[int, list[int]]:
    """Clicks per link for each UTC day ``first``..``last`` (the list page's sparklines)."""
    days = (last - first).days + 1
    out: dict[int, list[int]] = {pk: [0] * days for pk in link_ids}
    for link_id, day, clicks in ClickDay.objects.filter(
        workspace_id=workspace_id, link_id__in=list(out), day__gte=first, day__lte=last
    ).values_list("link_id", "day", "clicks"):
        out[link_id][(day - first).days] = clicks
    return out


def link_totals(workspace_id: int, link_ids: Iterable[int]) -> dict[int, tuple[int, int, int]]:
    """All-time (clicks, visitors, filtered bot hits) per link."""
    out = {pk: (0, 0, 0) for pk in link_ids}
    for row in (
        ClickDay.objects.filter(workspace_id=workspace_id, link_id__in=list(out))
        .values("link_id")
        .annotate(c=Sum("clicks"), v=Sum("visitors"), b=Sum("bots"))
        .order_by()
    ):
        out[row["link_id"]] = (row["c"] or 0, row["v"] or 0, row["b"] or 0)
    return out


# -- the analytics app's provider (minbar.analytics.providers) -----------------------


def _where(scope: LinkScope) -> Q:
    """Analytics' narrowing (channels, a post, a campaign tag) as a filter on clicks."""
    from minbar.publishing.models import Post

    where = Q()
    if scope.channel_ids is not None:
        where &= Q(channel_id__in=list(scope.channel_ids))
    if scope.post_id is not None:
        where &= Q(post_id=scope.post_id)
    if scope.tag:
        tagged = [
            pk
            for pk, tags in Post.objects.filter(workspace_id=scope.workspace_id).values_list(
                "pk", "tags"
            )
            if scope.tag in [str(t) for t in (tags or [])]
        ]
        where &= Q(post_id__in=tagged)
    return where


def _as_link_totals(found: Totals) -> LinkTotals:
    # Revenue is never converted between currencies: one currency gives a sum, several none.
    revenue = next(iter(found.revenue.values())) if len(found.revenue) == 1 else None
    if not found.revenue:
        revenue = Decimal("0.00")
    return LinkTotals(
        clicks=found.clicks,
        unique_visitors=found.visitors,
        conversions=found.conversions,
        revenue=revenue,
    )


class AnalyticsProvider:
    """Clicks, visitors, conversions and revenue for the analytics dashboards."""

    def totals(self, scope: LinkScope, start: datetime, end: datetime) -> LinkTotals:
        return _as_link_totals(totals(scope.workspace_id, start, end, where=_where(scope)))

    def by_channel(self, scope: LinkScope, start: datetime, end: datetime) -> dict[int, LinkTotals]:
        rows = breakdown(scope.workspace_id, start, end, by="channel", where=_where(scope))
        return {int(row.key): _as_link_totals(row.totals) for row in rows if row.key is not None}

    def daily(
        self, scope: LinkScope, start: datetime, end: datetime, zone: zoneinfo.ZoneInfo
    ) -> dict[date, LinkTotals]:
        buckets = series(scope.workspace_id, start, end, bucket="day", tz=zone, where=_where(scope))
        return {b.start.date(): _as_link_totals(b.totals) for b in buckets}


analytics_provider = AnalyticsProvider()
