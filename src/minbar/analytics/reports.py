"""The numbers behind a dashboard: one function the pages, the API, CSV exports and reports share.

:func:`overview` answers for a scope (a workspace, a channel, a post or a tag) and
a period of whole days in the viewer's time zone, with the previous period of
the same length for comparison. It reads events through the metric store,
counters of posts through their trackers, referrals and conversions through the
link provider and response metrics through the inbox; every formula is in
:mod:`minbar.analytics.definitions`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, QuerySet
from django.utils.translation import gettext as _

from minbar.analytics import definitions as d
from minbar.analytics.models import AccountSnapshot, PostTag, Tracker
from minbar.analytics.providers import LinkScope, LinkTotals, link_provider
from minbar.analytics.store import Scope, get_store, hour_start
from minbar.channels.models import Channel
from minbar.core.errors import InvalidInput, NotFound
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

PERIOD_CHOICES = (7, 30, 90)
MAX_DAYS = 366
RANKED_POSTS = 5


@dataclass(frozen=True)
class Period:
    """Whole days ``first_day`` to ``last_day`` (inclusive) in ``zone``."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone).astimezone(
            UTC
        )

    @property
    def previous(self) -> Period:
        return Period(
            self.first_day - timedelta(days=self.days),
            self.first_day - timedelta(days=1),
            self.zone,
        )

    def each_day(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]


def period_for(
    zone: ZoneInfo,
    today: date,
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Period:
    """The last ``days`` days (today included), or the custom range ``start`` to ``end``."""
    if start is not None or end is not None:
        if start is None or end is None:
            raise InvalidInput(
                _("Give both the first and the last day of the range."),
                fields={"start" if start is None else "end": _("Required.")},
            )
        if end < start:
            raise InvalidInput(
                _("The last day comes before the first day."),
                fields={"end": _("Choose a day on or after the first day.")},
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInput(
                _("Choose at most %(n)s days.") % {"n": MAX_DAYS},
                fields={"start": _("Too long a range.")},
            )
        return Period(start, end, zone)
    chosen = days or 30
    if not 1 <= chosen <= MAX_DAYS:
        raise InvalidInput(
            _("Choose between 1 and %(n)s days.") % {"n": MAX_DAYS},
            fields={"days": _("Between 1 and %(n)s.") % {"n": MAX_DAYS}},
        )
    return Period(today - timedelta(days=chosen - 1), today, zone)


# -- scopes ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyticsScope:
    kind: str  # "workspace", "channel", "post" or "tag"
    store: Scope
    channels: tuple[Channel, ...]
    title: str
    post_text: str = ""

    @property
    def links(self) -> LinkScope:
        return LinkScope(
            workspace_id=self.store.workspace_id,
            channel_ids=self.store.channel_ids,
            post_id=self.store.post_id,
            tag=self.store.tag,
        )


def resolve_scope(
    access: WorkspaceAccess,
    *,
    channel_id: int | None = None,
    post_id: int | None = None,
    tag: str = "",
) -> AnalyticsScope:
    """The scope asked for, inside the caller's workspace only (404 otherwise)."""
    from minbar.publishing.models import Post

    workspace = access.workspace
    channels = tuple(Channel.objects.filter(workspace=workspace).order_by("network", "handle"))
    if channel_id is not None:
        chosen = tuple(c for c in channels if c.pk == channel_id)
        if not chosen:
            raise NotFound(_("No such channel."))
        return AnalyticsScope(
            "channel", Scope(workspace.pk, channel_ids=(channel_id,)), chosen, chosen[0].handle
        )
    if post_id is not None:
        post = Post.objects.filter(workspace=workspace, pk=post_id).first()
        if post is None:
            raise NotFound(_("No such post."))
        on = set(Tracker.objects.filter(post_id=post.pk).values_list("channel_id", flat=True))
        text = (post.text or "").replace("\n", " ")
        return AnalyticsScope(
            "post",
            Scope(workspace.pk, post_id=post.pk),
            tuple(c for c in channels if c.pk in on),
            text[:80] or _("Post %(id)s") % {"id": post.pk},
            post_text=text,
        )
    if tag:
        tag = tag.strip().lstrip("#")
        if not tag or len(tag) > 100:
            raise InvalidInput(
                _("Give a tag of 1 to 100 characters."), fields={"tag": _("Invalid.")}
            )
        return AnalyticsScope("tag", Scope(workspace.pk, tag=tag), channels, f"#{tag}")
    return AnalyticsScope("workspace", Scope(workspace.pk), channels, workspace.name)


def workspace_tags(workspace_id: int, limit: int = 50) -> list[str]:
    return list(
        PostTag.objects.filter(workspace_id=workspace_id)
        .values_list("tag", flat=True)
        .distinct()
        .order_by("tag")[:limit]
    )


def _capabilities(channel: Channel) -> frozenset[str]:
    from minbar.channels.actions import connector_for

    try:
        return frozenset(connector_for(channel).account_capabilities().post_metrics)
    except NotFound:
        return frozenset()  # a network whose connector is gone reports nothing


def network_label(network: str) -> str:
    from minbar.connectors.registry import get_connector

    try:
        return str(get_connector(network).capabilities.label)
    except LookupError:
        return network


# -- the overview ------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    value: float | None
    previous: float | None
    kind: str = "count"  # "count", "rate", "seconds", "money", "average"
    # Networks in the scope that do not report it (shown as "not provided by …").
    missing: tuple[str, ...] = ()
    # Why there is no value at all, when it is not the networks (a source not installed).
    unavailable: str = ""

    @property
    def change(self) -> float | None:
        return d.change(self.value, self.previous)


@dataclass(frozen=True)
class DayPoint:
    day: date
    engagements: int
    impressions: int | None
    referrals: int | None


@dataclass(frozen=True)
class NetworkRow:
    network: str
    label: str
    channels: int
    totals: dict[str, int | None]
    engagements: int | None
    engagement_rate: float | None
    referrals: int | None
    missing: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class PostRow:
    post_id: int
    target_id: int
    channel_id: int
    network: str
    handle: str
    text: str
    url: str
    published_at: datetime
    values: dict[str, int]
    engagements: int | None
    engagement_rate: float | None


@dataclass(frozen=True)
class FunnelStep:
    key: str
    value: int | None
    missing: tuple[str, ...] = ()
    unavailable: str = ""


@dataclass
class Overview:
    scope: AnalyticsScope
    period: Period
    kpis: list[Kpi]
    daily: list[DayPoint]
    networks: list[NetworkRow]
    top_posts: list[PostRow]
    bottom_posts: list[PostRow]
    heatmap: list[list[int]]  # [weekday Monday=0][hour 0-23] engagements, viewer's zone
    funnel: list[FunnelStep]
    links_installed: bool
    provided: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rank_by: str = "engagements"


def _summary(
    scope: AnalyticsScope, start: datetime, end: datetime, provides: Mapping[int, frozenset[str]]
) -> tuple[d.Summary, dict[int, dict[str, int]]]:
    by_channel = get_store().totals_by_channel(scope.store, start, end)
    networks = {c.pk: network_label(c.network) for c in scope.channels}
    return d.summarize(by_channel, provides, networks), by_channel


def _posts(scope: AnalyticsScope, period: Period) -> QuerySet[Tracker]:
    """Tracked posts published in the period (a post's own page: the post, whenever)."""
    if scope.store.post_id is not None:
        return Tracker.objects.filter(
            workspace_id=scope.store.workspace_id, post_id=scope.store.post_id
        )
    trackers = Tracker.objects.filter(
        workspace_id=scope.store.workspace_id,
        published_at__gte=period.start,
        published_at__lt=period.end,
    )
    if scope.store.channel_ids is not None:
        trackers = trackers.filter(channel_id__in=scope.store.channel_ids)
    if scope.store.tag:
        trackers = trackers.filter(
            post_id__in=PostTag.objects.filter(
                workspace_id=scope.store.workspace_id, tag=scope.store.tag
            ).values("post_id")
        )
    return trackers


def _post_stats(posts: QuerySet[Tracker]) -> tuple[int, d.Reach]:
    found = posts.aggregate(count=Count("pk"), **d.reach_aggregates())
    return found["count"], d.Reach(
        average=found["reach_average"],
        highest=found["reach_highest"],
        posts=found["reach_posts"],
        engagement_rate=found["reach_rate"],
    )


def _ranked(posts: QuerySet[Tracker], rank_by: str) -> tuple[list[PostRow], list[PostRow]]:
    """The top and bottom posts by engagements or engagement rate (posts without one left out)."""
    score = F("engagements") if rank_by != "rate" else d.rate_expression()
    scored = posts.annotate(score=score).filter(score__isnull=False)
    # Rank on the trackers alone, then load the ten rows shown with what they link to.
    top_ids = list(
        scored.order_by("-score", "-published_at", "-pk").values_list("pk", flat=True)[
            : RANKED_POSTS + 1
        ]
    )
    bottom_ids: list[int] = []
    if len(top_ids) > RANKED_POSTS:  # more posts than the top list shows: a bottom list too
        top_ids = top_ids[:RANKED_POSTS]
        bottom_ids = list(
            scored.order_by("score", "published_at", "pk").values_list("pk", flat=True)[
                :RANKED_POSTS
            ]
        )
    loaded = {
        t.pk: t
        for t in Tracker.objects.filter(pk__in=top_ids + bottom_ids).select_related(
            "channel", "target", "target__post"
        )
    }
    top = [loaded[pk] for pk in top_ids]
    bottom = [loaded[pk] for pk in bottom_ids]
    return [_post_row(t) for t in top], [_post_row(t) for t in bottom]


def _followers(scope: AnalyticsScope, before: date) -> int | None:
    """Followers from each channel's latest account snapshot up to ``before`` (exclusive)."""
    latest: dict[int, dict[str, int]] = {}
    for snap in (
        AccountSnapshot.objects.filter(
            channel_id__in=[c.pk for c in scope.channels], day__lt=before
        )
        .order_by("channel_id", "day")
        .only("channel_id", "values")
    ):
        latest[snap.channel_id] = snap.values
    return d.followers(latest)


def _response(access: WorkspaceAccess, scope: AnalyticsScope, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """Response metrics from the inbox (reused as they are): workspace and channel scopes."""
    from minbar.inbox import metrics as inbox_metrics
    from minbar.inbox.actions import items_for
    from minbar.inbox.hours import BusinessHours

    if scope.kind not in ("workspace", "channel") or not access.can(Perm.VIEW_INBOX):
        return None
    items = items_for(access)
    if scope.store.channel_ids is not None:
        items = items.filter(channel_id__in=scope.store.channel_ids)
    return inbox_metrics.report(items, BusinessHours.of(access.workspace), start, end).total


def overview(
    access: WorkspaceAccess,
    scope: AnalyticsScope,
    period: Period,
    rank_by: str = "engagements",
    *,
    figures_only: bool = False,
) -> Overview:
    """Everything a dashboard shows for ``scope`` over ``period``.

    ``figures_only``: the KPI values alone (what goals measure, several times per
    goal): no previous period (each KPI's ``previous`` is None, except the
    followers' count before the first day), no series, heatmap, networks, posts or
    funnel — about half the queries.
    """
    store = get_store()
    provides = {c.pk: _capabilities(c) for c in scope.channels}
    networks = {c.pk: network_label(c.network) for c in scope.channels}
    current, by_channel = _summary(scope, period.start, period.end, provides)
    if figures_only:
        previous = d.summarize({}, provides, networks)  # not read: previous values are None
    else:
        previous, _prev_by_channel = _summary(
            scope, period.previous.start, period.previous.end, provides
        )
    provider = link_provider()
    links_now = links_before = None
    links_by_channel: dict[int, LinkTotals] = {}
    daily_links: dict[date, LinkTotals] = {}
    if provider is not None:
        links_now = provider.totals(scope.links, period.start, period.end)
        if not figures_only:
            links_before = provider.totals(scope.links, period.previous.start, period.previous.end)
            links_by_channel = provider.by_channel(scope.links, period.start, period.end)
            daily_links = provider.daily(scope.links, period.start, period.end, period.zone)
    not_installed = "" if provider is not None else _("the links app is not installed")

    posts = _posts(scope, period)
    post_count, reach_now = _post_stats(posts)
    previous_count, reach_before = (
        (0, d.reach([]))
        if scope.kind == "post" or figures_only
        else _post_stats(_posts(scope, period.previous))
    )
    no_reach = tuple(sorted({networks[c] for c in provides if "reach" not in provides[c]}))

    kpis = [
        Kpi(
            "engagements",
            current.engagements,
            previous.engagements,
            missing=current.missing["engagements"],
        ),
        Kpi(
            "impressions",
            current.impressions,
            previous.impressions,
            missing=current.missing["impressions"],
        ),
        Kpi(
            "engagement_rate",
            current.engagement_rate,
            previous.engagement_rate,
            kind="rate",
            missing=current.missing["engagement_rate"],
        ),
        Kpi(
            "engagement_rate_reach",
            reach_now.engagement_rate,
            reach_before.engagement_rate,
            kind="rate",
            missing=no_reach,
        ),
        Kpi(
            "average_reach",
            reach_now.average,
            reach_before.average,
            kind="average",
            missing=no_reach,
        ),
        Kpi("highest_reach", reach_now.highest, reach_before.highest, missing=no_reach),
    ]
    if scope.kind != "post":
        kpis.append(Kpi("posts", post_count, previous_count))
    for key in ("likes", "comments", "shares", "quotes", "saves", "clicks", "video_views"):
        if any(key in p for p in provides.values()):
            kpis.append(
                Kpi(key, current.totals[key], previous.totals[key], missing=current.missing[key])
            )
    if scope.kind in ("workspace", "channel"):
        follower_networks = tuple(
            sorted({networks[c.pk] for c in scope.channels if "followers" not in _account_keys(c)})
        )
        kpis.append(
            Kpi(
                "followers",
                _followers(scope, period.last_day + timedelta(days=1)),
                _followers(scope, period.first_day),
                missing=follower_networks,
            )
        )
    kpis.append(
        Kpi(
            "referrals",
            links_now.clicks if links_now else None,
            links_before.clicks if links_before else None,
            unavailable=not_installed,
        )
    )
    kpis.append(
        Kpi(
            "conversions",
            links_now.conversions if links_now else None,
            links_before.conversions if links_before else None,
            unavailable=not_installed
            or (
                ""
                if links_now and links_now.conversions is not None
                else _("no conversions are tracked")
            ),
        )
    )
    if links_now is not None and links_now.revenue is not None:
        kpis.append(
            Kpi(
                "revenue",
                float(links_now.revenue),
                float(links_before.revenue)
                if links_before and links_before.revenue is not None
                else None,
                kind="money",
            )
        )
    response_now = _response(access, scope, period.start, period.end)
    if response_now is not None:
        response_before = (
            None
            if figures_only
            else _response(access, scope, period.previous.start, period.previous.end)
        )
        kpis.append(
            Kpi(
                "response_rate",
                response_now.rate,
                response_before.rate if response_before else None,
                kind="rate",
            )
        )
        kpis.append(
            Kpi(
                "response_time",
                response_now.median_seconds,
                response_before.median_seconds if response_before else None,
                kind="seconds",
            )
        )
    if figures_only:
        kpis = [k if k.key == "followers" else replace(k, previous=None) for k in kpis]
        return Overview(
            scope=scope,
            period=period,
            kpis=kpis,
            daily=[],
            networks=[],
            top_posts=[],
            bottom_posts=[],
            heatmap=[],
            funnel=[],
            links_installed=provider is not None,
            provided={networks[c]: tuple(sorted(p)) for c, p in provides.items()},
            rank_by=rank_by,
        )

    hourly = store.hourly_sums(
        scope.store,
        period.start,
        period.end,
        {"engagements": d.ENGAGEMENT_KEYS, "impressions": ("impressions",)},
    )
    daily_engaged: dict[date, int] = defaultdict(int)
    daily_impressions: dict[date, int] = defaultdict(int)
    heatmap = [[0] * 24 for _day in range(7)]
    for hour, sums in hourly.items():
        local = hour_start(hour).astimezone(period.zone)
        daily_engaged[local.date()] += sums["engagements"]
        daily_impressions[local.date()] += sums["impressions"]
        heatmap[local.weekday()][local.hour] += sums["engagements"]
    with_impressions = any("impressions" in p for p in provides.values())
    daily = [
        DayPoint(
            day=day,
            engagements=daily_engaged.get(day, 0),
            impressions=daily_impressions.get(day, 0) if with_impressions else None,
            referrals=(daily_links[day].clicks if day in daily_links else 0)
            if provider is not None
            else None,
        )
        for day in period.each_day()
    ]

    network_rows = _network_rows(
        scope, provides, by_channel, links_by_channel, provider is not None
    )
    top, bottom = _ranked(posts, rank_by)

    funnel = [
        FunnelStep("impressions", current.impressions, missing=current.missing["impressions"]),
        FunnelStep("engagements", current.engagements, missing=current.missing["engagements"]),
        FunnelStep("referrals", links_now.clicks if links_now else None, unavailable=not_installed),
        FunnelStep(
            "conversions",
            links_now.conversions if links_now else None,
            unavailable=not_installed
            or (
                ""
                if links_now and links_now.conversions is not None
                else _("no conversions are tracked")
            ),
        ),
    ]
    return Overview(
        scope=scope,
        period=period,
        kpis=kpis,
        daily=daily,
        networks=network_rows,
        top_posts=top,
        bottom_posts=bottom,
        heatmap=heatmap,
        funnel=funnel,
        links_installed=provider is not None,
        provided={networks[c]: tuple(sorted(p)) for c, p in provides.items()},
        rank_by=rank_by,
    )


def _account_keys(channel: Channel) -> frozenset[str]:
    from minbar.channels.actions import connector_for

    try:
        return frozenset(connector_for(channel).account_capabilities().account_metrics)
    except NotFound:
        return frozenset()


def _network_rows(
    scope: AnalyticsScope,
    provides: Mapping[int, frozenset[str]],
    by_channel: Mapping[int, Mapping[str, int]],
    links_by_channel: Mapping[int, LinkTotals],
    links_installed: bool,
) -> list[NetworkRow]:
    grouped: dict[str, list[Channel]] = defaultdict(list)
    for channel in scope.channels:
        grouped[channel.network].append(channel)
    rows = []
    for network, channels in sorted(grouped.items()):
        label = network_label(network)
        ids = [c.pk for c in channels]
        summary = d.summarize(
            {c: by_channel.get(c, {}) for c in ids},
            {c: provides[c] for c in ids},
            dict.fromkeys(ids, label),
        )
        rows.append(
            NetworkRow(
                network=network,
                label=label,
                channels=len(channels),
                totals=summary.totals,
                engagements=summary.engagements,
                engagement_rate=summary.engagement_rate,
                referrals=sum(links_by_channel[c].clicks for c in ids if c in links_by_channel)
                if links_installed
                else None,
                missing=summary.missing,
            )
        )
    return rows


def _post_row(tracker: Tracker) -> PostRow:
    values = dict(tracker.values or {})
    engaged = d.engagements(values)
    return PostRow(
        post_id=tracker.post_id,
        target_id=tracker.target_id,
        channel_id=tracker.channel_id,
        network=tracker.channel.network,
        handle=tracker.channel.handle,
        text=(tracker.target.effective_text or "").replace("\n", " ")[:140],
        url=tracker.target.remote_url,
        published_at=tracker.published_at,
        values=values,
        engagements=engaged,
        engagement_rate=d.engagement_rate(engaged, values.get("impressions")),
    )
