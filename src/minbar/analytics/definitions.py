"""Every metric Minbar shows, defined once (docs/metrics.md explains each in words).

Counters come from the networks under the canonical keys of
``minbar.connectors.types.POST_METRIC_KEYS``. A key a network does not report is
absent, and absent is never zero: a sum over a scope counts only the channels
whose network reports the key, and a metric no network in the scope reports is
``None`` ("not provided by <network>").

- engagements = likes + comments + shares + quotes + saves + clicks, each where the
  network reports it (:func:`engagement_keys` lists them per network);
- engagement rate by impressions = engagements ÷ impressions, both summed only
  over channels whose network reports impressions (a network without impressions
  would otherwise add engagements with nothing to divide them by);
- engagement rate by reach = the average, over posts whose network reports reach,
  of each post's engagements ÷ its reach;
- reach is never summed across posts (the same person is counted once per post):
  the average reach per post and the highest reach of a post are shown instead;
- referrals = short-link clicks (from the links app), conversions = conversions
  attributed to those clicks, click-through rate = referrals ÷ impressions,
  conversion rate = conversions ÷ referrals;
- response rate and response time come from ``minbar.inbox.metrics`` unchanged;
- share of voice = brand mentions ÷ (brand + competitor mentions) in a period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from minbar.connectors.types import Capabilities

ENGAGEMENT_KEYS = ("likes", "comments", "shares", "quotes", "saves", "clicks")
# Counters whose increases can be added up across posts and time (reach cannot).
ADDITIVE_POST_KEYS = (*ENGAGEMENT_KEYS, "impressions", "video_views")
# Shown as KPIs and in tables, in this order.
SUMMED_KEYS = (*ENGAGEMENT_KEYS, "impressions", "video_views")


def engagement_keys(capabilities: Capabilities) -> tuple[str, ...]:
    """The engagement counters a network reports (its share of the definition)."""
    return tuple(k for k in ENGAGEMENT_KEYS if k in capabilities.post_metrics)


def engagements(values: Mapping[str, int]) -> int | None:
    """Engagements of one post or one sum; None when no engagement counter is present."""
    present = [values[k] for k in ENGAGEMENT_KEYS if k in values]
    return sum(present) if present else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator ÷ denominator``; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def engagement_rate(engaged: int | None, impressions: int | None) -> float | None:
    return ratio(engaged, impressions)


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change against the previous period: 0.25 is +25 %; None when not comparable."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous


def share_of_voice(brand_mentions: int, competitor_mentions: int) -> float | None:
    return ratio(brand_mentions, brand_mentions + competitor_mentions)


def click_through_rate(referrals: int | None, impressions: int | None) -> float | None:
    return ratio(referrals, impressions)


def conversion_rate(conversions: int | None, referrals: int | None) -> float | None:
    return ratio(conversions, referrals)


@dataclass(frozen=True)
class Summary:
    """Sums over a scope and period. ``totals[key]`` is None when no channel reports ``key``."""

    totals: dict[str, int | None]
    engagements: int | None
    impressions: int | None
    engagement_rate: float | None
    # The network keys (e.g. "bluesky") of channels in the scope that do not report a key.
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)


def summarize(
    by_channel: Mapping[int, Mapping[str, int]],
    provides: Mapping[int, frozenset[str]],
    networks: Mapping[int, str],
) -> Summary:
    """Combine per-channel sums into the scope's totals, following the rules above.

    ``provides`` holds, for every channel in the scope, the keys its network reports
    (a channel with no events still counts: 0 likes is not "not provided").
    """
    totals: dict[str, int | None] = {}
    missing: dict[str, tuple[str, ...]] = {}
    for key in SUMMED_KEYS:
        reporting = [c for c in provides if key in provides[c]]
        totals[key] = (
            sum(by_channel.get(c, {}).get(key, 0) for c in reporting) if reporting else None
        )
        missing[key] = tuple(sorted({networks[c] for c in provides if key not in provides[c]}))
    engagement_channels = [c for c in provides if any(k in provides[c] for k in ENGAGEMENT_KEYS)]
    engaged = (
        sum(engagements(by_channel.get(c, {})) or 0 for c in engagement_channels)
        if engagement_channels
        else None
    )
    with_impressions = [c for c in provides if "impressions" in provides[c]]
    rate = None
    if with_impressions:
        rate = engagement_rate(
            sum(engagements(by_channel.get(c, {})) or 0 for c in with_impressions),
            sum(by_channel.get(c, {}).get("impressions", 0) for c in with_impressions),
        )
    missing["engagements"] = tuple(
        sorted({networks[c] for c in provides if c not in engagement_channels})
    )
    missing["engagement_rate"] = tuple(
        sorted({networks[c] for c in provides if c not in with_impressions})
    )
    return Summary(
        totals=totals,
        engagements=engaged,
        impressions=totals["impressions"],
        engagement_rate=rate,
        missing=missing,
    )


@dataclass(frozen=True)
class Reach:
    """Reach of posts, never summed: the average per post and the highest one."""

    average: float | None
    highest: int | None
    posts: int  # posts whose network reports reach
    # Average over those posts of engagements ÷ reach.
    engagement_rate: float | None


def reach(posts: Iterable[Mapping[str, int]]) -> Reach:
    """From each post's latest counters; posts without a ``reach`` key are left out."""
    reaches: list[int] = []
    rates: list[float] = []
    for values in posts:
        if "reach" not in values:
            continue
        reaches.append(values["reach"])
        rate = ratio(engagements(values), values["reach"])
        if rate is not None:
            rates.append(rate)
    return Reach(
        average=sum(reaches) / len(reaches) if reaches else None,
        highest=max(reaches) if reaches else None,
        posts=len(reaches),
        engagement_rate=sum(rates) / len(rates) if rates else None,
    )


def reach_aggregates() -> dict[str, Any]:
    """:func:`reach` as SQL aggregates over trackers (their ``engagements`` and ``reach``).

    The same definition, computed by the database for thousands of posts at once;
    tests check both give the same numbers.
    """
    from django.db.models import Avg, Count, F, FloatField, Max, Q
    from django.db.models.functions import Cast

    return {
        "reach_posts": Count("reach"),
        "reach_average": Avg(Cast("reach", FloatField())),
        "reach_highest": Max("reach"),
        "reach_rate": Avg(
            Cast(F("engagements"), FloatField()) / Cast(F("reach"), FloatField()),
            filter=Q(reach__gt=0, engagements__isnull=False),
        ),
    }


def rate_expression() -> Any:
    """Engagements ÷ impressions of a tracked post, in SQL (NULL without impressions)."""
    from django.db.models import Case, F, FloatField, When
    from django.db.models.functions import Cast

    return Case(
        When(
            impressions__gt=0,
            engagements__isnull=False,
            then=Cast(F("engagements"), FloatField()) / Cast(F("impressions"), FloatField()),
        ),
        default=None,
        output_field=FloatField(),
    )


def followers(latest: Mapping[int, Mapping[str, int]]) -> int | None:
    """Followers of every channel that reports them, added up (one number per account)."""
    counts = [values["followers"] for values in latest.values() if "followers" in values]
    return sum(counts) if counts else None


def engagement_table(connectors: Iterable[type]) -> str:
    """Markdown: which engagement counters each network reports (docs/metrics.md)."""
    lines = [
        "| Network | " + " | ".join(ENGAGEMENT_KEYS) + " | impressions | reach |",
        "| --- | " + " | ".join(["---"] * (len(ENGAGEMENT_KEYS) + 2)) + " |",
    ]
    for cls in connectors:
        caps: Capabilities = cls.capabilities  # type: ignore[attr-defined]
        cells = [
            "yes" if k in caps.post_metrics else "—"
            for k in (*ENGAGEMENT_KEYS, "impressions", "reach")
        ]
        lines.append(f"| {caps.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
