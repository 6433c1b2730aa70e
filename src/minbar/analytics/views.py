"""Analytics pages: one overview for a workspace, a channel, a post or a tag, and its CSV files."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minbar.analytics import charts, reports
from minbar.analytics.reports import Kpi, Overview
from minbar.channels.labels import join_words, metric_label
from minbar.core.errors import InvalidInput, NotFound
from minbar.inbox.metrics import humanize_seconds
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.roles import Perm

KPI_LABELS = {
    "engagements": gettext_lazy("Engagements"),
    "impressions": gettext_lazy("Impressions"),
    "engagement_rate": gettext_lazy("Engagement rate (by impressions)"),
    "engagement_rate_reach": gettext_lazy("Engagement rate (by reach)"),
    "average_reach": gettext_lazy("Average reach per post"),
    "highest_reach": gettext_lazy("Highest reach of a post"),
    "posts": gettext_lazy("Posts published"),
    "followers": gettext_lazy("Followers"),
    "referrals": gettext_lazy("Referrals (short-link clicks)"),
    "conversions": gettext_lazy("Conversions"),
    "revenue": gettext_lazy("Revenue"),
    "response_rate": gettext_lazy("Response rate"),
    "response_time": gettext_lazy("Median first response"),
}
TABLES = ("kpis", "daily", "networks", "posts", "heatmap", "funnel")


def kpi_label(key: str) -> str:
    return str(KPI_LABELS[key]) if key in KPI_LABELS else metric_label(key)


def not_provided(networks: tuple[str, ...]) -> str:
    if not networks:
        return ""
    return _("not provided by %(networks)s") % {"networks": join_words(networks)}


def kpi_text(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.kind == "rate":
        return charts.percent(value)
    if kpi.kind == "seconds":
        return humanize_seconds(value)
    if kpi.kind == "average":
        return charts.number(value, 1)
    if kpi.kind == "money":
        return charts.number(value, 2)
    return charts.number(value)


def _viewer_zone() -> ZoneInfo:
    zone = timezone.get_current_timezone()
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))


def _date(raw: str, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            _("Enter the day as YYYY-MM-DD."), fields={field: _("Not a date.")}
        ) from None


def period_from_query(request: HttpRequest, zone: ZoneInfo) -> reports.Period:
    raw_days = request.GET.get("days", "")
    days = int(raw_days) if raw_days.isdigit() else None
    today = timezone.now().astimezone(zone).date()
    return reports.period_for(
        zone,
        today,
        days=days,
        start=_date(request.GET.get("start", ""), "start"),
        end=_date(request.GET.get("end", ""), "end"),
    )


def _overview_page(
    request: HttpRequest,
    access: WorkspaceAccess,
    *,
    channel_id: int | None = None,
    post_id: int | None = None,
    tag: str = "",
) -> HttpResponse:
    try:
        scope = reports.resolve_scope(access, channel_id=channel_id, post_id=post_id, tag=tag)
    except NotFound:
        from django.http import Http404

        raise Http404 from None
    zone = _viewer_zone()
    error = ""
    try:
        period = period_from_query(request, zone)
    except InvalidInput as exc:
        error = exc.message
        period = reports.period_for(zone, timezone.now().astimezone(zone).date(), days=30)
    rank = "rate" if request.GET.get("rank") == "rate" else "engagements"
    result = reports.overview(access, scope, period, rank_by=rank)
    table = request.GET.get("table", "")
    if request.GET.get("format") == "csv":
        if table not in TABLES:
            table = "kpis"
        return csv_response(result, table, access.workspace.slug)
    if error:
        messages.error(request, error)
    from minbar.analytics.goal_views import dashboard_goals

    context = _context(request, access, result, error)
    context["goal_cards"] = dashboard_goals(access, scope)
    context["can_manage_goals"] = access.can(Perm.MANAGE_CAMPAIGNS)
    return render(request, "analytics/overview.html", context)


def _context(
    request: HttpRequest, access: WorkspaceAccess, result: Overview, error: str
) -> dict[str, Any]:
    rtl = translation.get_language_bidi()
    days = result.period.each_day()
    day_names = [str(WEEKDAYS_ABBR[i]) for i in range(7)]
    kpis = [
        {
            "key": k.key,
            "label": kpi_label(k.key),
            "value": kpi_text(k, k.value),
            "previous": kpi_text(k, k.previous),
            "change": charts.signed_percent(k.change),
            "direction": ""
            if k.change is None
            else "up"
            if k.change > 0
            else "down"
            if k.change < 0
            else "",
            "note": k.unavailable or not_provided(k.missing),
            "empty": k.value is None,
        }
        for k in result.kpis
    ]
    funnel_widths = charts.funnel_widths([s.value for s in result.funnel])
    funnel = [
        {
            "label": kpi_label(step.key),
            "value": charts.number(step.value),
            "width": None if width is None else charts.coordinate(width),
            "x": charts.coordinate(0 if width is None or not rtl else 100 - width),
            "note": step.unavailable or not_provided(step.missing),
        }
        for step, width in zip(result.funnel, funnel_widths, strict=True)
    ]
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    return {
        "overview": result,
        "scope": result.scope,
        "period": result.period,
        "periods": reports.PERIOD_CHOICES,
        "days_chosen": request.GET.get("days", "") if not request.GET.get("start") else "",
        "custom": bool(request.GET.get("start")),
        "error": error,
        "kpis": kpis,
        "engagement_chart": charts.bars(
            days, [p.engagements for p in result.daily], rtl=rtl, caption=_("Engagements per day")
        ),
        "impression_chart": charts.bars(
            days, [p.impressions for p in result.daily], rtl=rtl, caption=_("Impressions per day")
        )
        if any(p.impressions is not None for p in result.daily)
        else None,
        "heatmap": charts.heatmap(result.heatmap, day_names, rtl=rtl),
        "funnel": funnel,
        "network_rows": [
            {
                "label": row.label,
                "channels": row.channels,
                "engagements": charts.number(row.engagements),
                "impressions": charts.number(row.totals.get("impressions")),
                "rate": charts.percent(row.engagement_rate),
                "referrals": charts.number(row.referrals),
                "note": not_provided(row.missing.get("impressions", ())),
            }
            for row in result.networks
        ],
        "top_posts": [_post_view(r) for r in result.top_posts],
        "bottom_posts": [_post_view(r) for r in result.bottom_posts],
        "tags": reports.workspace_tags(access.workspace.pk),
        "channels": result.scope.channels if result.scope.kind == "workspace" else (),
        "zone": str(result.period.zone),
        "query": query.urlencode(),
        "tables": TABLES,
    }


def _post_view(row: reports.PostRow) -> dict[str, Any]:
    return {
        "post_id": row.post_id,
        "text": row.text,
        "handle": row.handle,
        "network": reports.network_label(row.network),
        "url": row.url,
        "published_at": row.published_at,
        "engagements": charts.number(row.engagements),
        "impressions": charts.number(row.values.get("impressions"))
        if "impressions" in row.values
        else _("not provided"),
        "rate": charts.percent(row.engagement_rate),
    }


# -- CSV ---------------------------------------------------------------------------


def _raw(value: object) -> str:
    """CSV cells are plain machine numbers (no grouping), empty when not provided."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def csv_rows(result: Overview, table: str) -> list[list[str]]:
    if table == "kpis":
        rows = [["metric", "value", "previous_period", "change", "not_provided_by", "unavailable"]]
        rows += [
            [
                k.key,
                _raw(k.value),
                _raw(k.previous),
                _raw(k.change),
                "; ".join(k.missing),
                k.unavailable,
            ]
            for k in result.kpis
        ]
        return rows
    if table == "daily":
        rows = [["day", "engagements", "impressions", "referrals"]]
        rows += [
            [p.day.isoformat(), _raw(p.engagements), _raw(p.impressions), _raw(p.referrals)]
            for p in result.daily
        ]
        return rows
    if table == "networks":
        keys = list(reports.d.SUMMED_KEYS)
        rows = [["network", "channels", *keys, "engagements", "engagement_rate", "referrals"]]
        rows += [
            [
                r.network,
                str(r.channels),
                *[_raw(r.totals.get(k)) for k in keys],
                _raw(r.engagements),
                _raw(r.engagement_rate),
                _raw(r.referrals),
            ]
            for r in result.networks
        ]
        return rows
    if table == "posts":
        keys = ["likes", "comments", "shares", "quotes", "saves", "clicks", "impressions", "reach"]
        rows = [
            [
                "rank",
                "post_id",
                "network",
                "handle",
                "published_at",
                "url",
                *keys,
                "engagements",
                "engagement_rate",
            ]
        ]
        for label, posts in (("top", result.top_posts), ("bottom", result.bottom_posts)):
            rows += [
                [
                    label,
                    str(p.post_id),
                    p.network,
                    p.handle,
                    p.published_at.isoformat(),
                    p.url,
                    *[_raw(p.values.get(k)) for k in keys],
                    _raw(p.engagements),
                    _raw(p.engagement_rate),
                ]
                for p in posts
            ]
        return rows
    if table == "heatmap":
        rows = [["weekday", *[f"{h:02d}" for h in range(24)]]]
        names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        rows += [[names[i], *[str(v) for v in row]] for i, row in enumerate(result.heatmap)]
        return rows
    rows = [["step", "value", "not_provided_by", "unavailable"]]
    rows += [[s.key, _raw(s.value), "; ".join(s.missing), s.unavailable] for s in result.funnel]
    return rows


def csv_response(result: Overview, table: str, slug: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    period = result.period
    name = f"{slug}-{result.scope.kind}-{table}-{period.first_day}-{period.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # spreadsheet programs then read Arabic text as UTF-8
    writer = csv.writer(response)
    for row in csv_rows(result, table):
        writer.writerow(row)
    return response


# -- the four scopes -----------------------------------------------------------------


@workspace_view(Perm.VIEW_ANALYTICS)
def overview(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    return _overview_page(request, access)


@workspace_view(Perm.VIEW_ANALYTICS)
def channel_overview(
    request: HttpRequest, access: WorkspaceAccess, channel_id: int
) -> HttpResponse:
    return _overview_page(request, access, channel_id=channel_id)


@workspace_view(Perm.VIEW_ANALYTICS)
def post_overview(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    return _overview_page(request, access, post_id=post_id)


@workspace_view(Perm.VIEW_ANALYTICS)
def tag_overview(request: HttpRequest, access: WorkspaceAccess, tag: str) -> HttpResponse:
    return _overview_page(request, access, tag=tag)
