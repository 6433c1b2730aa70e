"""The analytics API: the same numbers as the dashboards, as JSON (docs/api.md)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from minbar.analytics import reports
from minbar.api import ErrorOut, api_access
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.workspaces.roles import Perm

router = Router(tags=["analytics"])


class KpiOut(Schema):
    key: str
    value: float | None
    previous: float | None
    change: float | None
    kind: str
    not_provided_by: list[str]
    unavailable: str


class DayOut(Schema):
    day: date
    engagements: int
    impressions: int | None
    referrals: int | None


class NetworkOut(Schema):
    network: str
    channels: int
    totals: dict[str, int | None]
    engagements: int | None
    engagement_rate: float | None
    referrals: int | None
    not_provided_by: dict[str, list[str]]


class PostOut(Schema):
    post_id: int
    target_id: int
    channel_id: int
    network: str
    url: str
    published_at: datetime
    values: dict[str, int]
    engagements: int | None
    engagement_rate: float | None


class FunnelOut(Schema):
    step: str
    value: int | None
    not_provided_by: list[str]
    unavailable: str


class PeriodOut(Schema):
    first_day: date
    last_day: date
    time_zone: str
    start: datetime
    end: datetime
    previous_first_day: date
    previous_last_day: date


class AnalyticsOut(Schema):
    scope: str
    period: PeriodOut
    kpis: list[KpiOut]
    daily: list[DayOut]
    networks: list[NetworkOut]
    top_posts: list[PostOut]
    bottom_posts: list[PostOut]
    heatmap: list[list[int]]
    funnel: list[FunnelOut]
    links_installed: bool
    provided: dict[str, list[str]]


def _zone(name: str, fallback: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or fallback)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("Unknown time zone “%(zone)s”.") % {"zone": name},
            fields={"tz": _("Use a name such as Asia/Riyadh.")},
        ) from None


def _post(row: reports.PostRow) -> dict[str, Any]:
    return {
        "post_id": row.post_id,
        "target_id": row.target_id,
        "channel_id": row.channel_id,
        "network": row.network,
        "url": row.url,
        "published_at": row.published_at,
        "values": row.values,
        "engagements": row.engagements,
        "engagement_rate": row.engagement_rate,
    }


@router.get(
    "/{slug}/analytics",
    response={200: AnalyticsOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="KPIs with the previous period, daily series, networks, top posts, heatmap, funnel",
)
def analytics(
    request: HttpRequest,
    slug: str,
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
    channel: int | None = None,
    post: int | None = None,
    tag: str = "",
    rank: str = "engagements",
    tz: str = "",
) -> dict[str, Any]:
    """Numbers for the workspace, or one ``channel``, ``post`` or ``tag``.

    The period is the last ``days`` days (30 by default, today included) or
    ``start`` to ``end`` (inclusive), as whole days in ``tz`` (default: your
    profile's zone, else the workspace's). A metric a network does not provide
    is ``null`` with the networks in ``not_provided_by``, never 0.
    """
    access = api_access(request, slug)
    if not access.can(Perm.VIEW_ANALYTICS):
        raise NotAllowed(_("Your role cannot see analytics."))
    user_zone = getattr(access.membership.user, "time_zone", "") or access.workspace.time_zone
    zone = _zone(tz, user_zone)
    period = reports.period_for(
        zone, timezone.now().astimezone(zone).date(), days=days, start=start, end=end
    )
    scope = reports.resolve_scope(access, channel_id=channel, post_id=post, tag=tag)
    result = reports.overview(
        access, scope, period, rank_by="rate" if rank == "rate" else "engagements"
    )
    return {
        "scope": scope.kind,
        "period": {
            "first_day": period.first_day,
            "last_day": period.last_day,
            "time_zone": str(zone),
            "start": period.start,
            "end": period.end,
            "previous_first_day": period.previous.first_day,
            "previous_last_day": period.previous.last_day,
        },
        "kpis": [
            {
                "key": k.key,
                "value": k.value,
                "previous": k.previous,
                "change": k.change,
                "kind": k.kind,
                "not_provided_by": list(k.missing),
                "unavailable": k.unavailable,
            }
            for k in result.kpis
        ],
        "daily": [
            {
                "day": p.day,
                "engagements": p.engagements,
                "impressions": p.impressions,
                "referrals": p.referrals,
            }
            for p in result.daily
        ],
        "networks": [
            {
                "network": r.network,
                "channels": r.channels,
                "totals": r.totals,
                "engagements": r.engagements,
                "engagement_rate": r.engagement_rate,
                "referrals": r.referrals,
                "not_provided_by": {k: list(v) for k, v in r.missing.items() if v},
            }
            for r in result.networks
        ],
        "top_posts": [_post(r) for r in result.top_posts],
        "bottom_posts": [_post(r) for r in result.bottom_posts],
        "heatmap": result.heatmap,
        "funnel": [
            {
                "step": s.key,
                "value": s.value,
                "not_provided_by": list(s.missing),
                "unavailable": s.unavailable,
            }
            for s in result.funnel
        ],
        "links_installed": result.links_installed,
        "provided": {k: list(v) for k, v in result.provided.items()},
    }
