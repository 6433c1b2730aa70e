"""A dashboard as a printable PDF: cover, key figures, charts, posts, definitions.

The report is HTML drawn by WeasyPrint. WeasyPrint shapes Arabic in HTML text
(joined letters, right to left) but draws text inside inline SVG unjoined and
left to right, so no text is ever put inside an SVG here: bars are SVG shapes,
and every label (dates, weekdays, numbers) is HTML placed around them.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from minbar.analytics import charts, reports
from minbar.analytics.reports import AnalyticsScope, Overview, Period
from minbar.analytics.views import kpi_label, kpi_text, not_provided
from minbar.workspaces.access import WorkspaceAccess

logger = logging.getLogger("minbar.reports")

# Rows of the metric definitions footnote: (KPI key, definition), shown for KPIs in the report.
DEFINITIONS = {
    "engagements": lambda: _(
        "Likes + comments + shares + quotes + saves + clicks, each where the network gives it."
    ),
    "impressions": lambda: _("Times posts were shown, summed over networks that give it."),
    "engagement_rate": lambda: _(
        "Engagements ÷ impressions, over the channels whose network gives impressions."
    ),
    "engagement_rate_reach": lambda: _(
        "For each post whose network gives reach, its engagements ÷ its reach; the average."
    ),
    "average_reach": lambda: _(
        "Reach is never added up across posts: the average per post published in the period."
    ),
    "highest_reach": lambda: _("The highest reach of one post published in the period."),
    "referrals": lambda: _("Clicks on the workspace's short links."),
    "conversions": lambda: _("Conversions attributed to those clicks."),
    "response_rate": lambda: _("Share of inbox conversations answered, from the inbox."),
    "response_time": lambda: _("Median time to the first answer, in business hours."),
}


# The report's sections after the cover, in order: each is reports/sections/<name>.html,
# drawn from report_context(). A new section is one name here and its template.
SECTIONS = ("kpis", "goals", "charts", "networks", "posts", "heatmap", "definitions")


@dataclass(frozen=True)
class ReportRequest:
    """Everything that decides one report's content."""

    scope: AnalyticsScope
    period: Period
    language: str
    rank_by: str = "engagements"


def _percent(value: float, total: float) -> str:
    """A CSS percentage, never localized (an Arabic decimal comma breaks CSS)."""
    return f"{100 * value / total:.2f}%" if total else "0%"


def _bar_chart(days: list[Any], values: list[int | None], *, rtl: bool, caption: str) -> dict:
    """Bars as SVG shapes; the tick labels as HTML positioned under them."""
    chart = charts.bars(days, values, rtl=rtl, caption=caption)
    shift = {"start": "0", "middle": "-50%", "end": "-100%"}
    chart["labels"] = [
        {"left": _percent(float(t.x), charts.WIDTH), "shift": shift[t.anchor], "text": t.label}
        for t in chart["ticks"]  # type: ignore[attr-defined]
    ]
    return chart


def _heatmap(grid: list[list[int]]) -> dict[str, Any]:
    """Weekday rows and hour columns as a table; a right-to-left table puts 00:00 on the right."""
    drawn = charts.heatmap(grid, [str(WEEKDAYS_ABBR[i]) for i in range(7)], rtl=False)
    cells: list[charts.Cell] = drawn["cells"]  # type: ignore[assignment]
    rows = [
        {
            "label": str(WEEKDAYS_ABBR[day]),
            "levels": [c.level for c in cells[day * 24 : day * 24 + 24]],
        }
        for day in range(7)
    ]
    return {"rows": rows, "hours": [f"{h:02d}" for h in range(0, 24, 3)], "empty": drawn["empty"]}


def _post(row: reports.PostRow) -> dict[str, Any]:
    return {
        "text": row.text,
        "handle": row.handle,
        "network": reports.network_label(row.network),
        "published_at": row.published_at,
        "engagements": charts.number(row.engagements),
        "impressions": charts.number(row.values.get("impressions"))
        if "impressions" in row.values
        else _("not provided"),
        "rate": charts.percent(row.engagement_rate),
    }


def scope_label(scope: AnalyticsScope) -> str:
    return {
        "workspace": _("Whole workspace"),
        "channel": _("Channel %(name)s"),
        "post": _("Post: %(name)s"),
        "tag": _("Posts tagged %(name)s"),
    }[scope.kind] % {"name": scope.title}


def report_context(
    result: Overview, *, workspace_name: str, generated_at: datetime, workspace_zone: ZoneInfo
) -> dict[str, Any]:
    """What the report template shows, formatted in the active language and time zone."""
    rtl = translation.get_language_bidi()
    period = result.period
    days = period.each_day()
    kpis = [
        {
            "key": k.key,
            "label": kpi_label(k.key),
            "value": kpi_text(k, k.value),
            "previous": kpi_text(k, k.previous),
            "change": charts.signed_percent(k.change),
            "direction": "" if not k.change else "up" if k.change > 0 else "down",
            "note": k.unavailable or not_provided(k.missing),
            "empty": k.value is None,
        }
        for k in result.kpis
    ]
    widths = charts.funnel_widths([s.value for s in result.funnel])
    funnel = [
        {
            "label": kpi_label(step.key),
            "value": charts.number(step.value),
            "width": None if width is None else f"{width:.1f}%",
            "note": step.unavailable or not_provided(step.missing),
        }
        for step, width in zip(result.funnel, widths, strict=True)
    ]
    peak = max([1, *(r.engagements or 0 for r in result.networks)])
    networks = [
        {
            "label": row.label,
            "channels": row.channels,
            "engagements": charts.number(row.engagements),
            "engagements_note": not_provided(row.missing.get("engagements", ())),
            "impressions": charts.number(row.totals.get("impressions")),
            "impressions_note": not_provided(row.missing.get("impressions", ())),
            "rate": charts.percent(row.engagement_rate),
            "referrals": charts.number(row.referrals),
            "bar": _percent(row.engagements or 0, peak),
        }
        for row in result.networks
    ]
    shown = {k.key for k in result.kpis}
    definitions = [
        {"label": kpi_label(key), "text": text()}
        for key, text in DEFINITIONS.items()
        if key in shown
    ]
    return {
        "rtl": rtl,
        "language": translation.get_language(),
        "workspace_name": workspace_name,
        "scope": result.scope,
        "scope_label": scope_label(result.scope),
        "period": period,
        "previous": period.previous,
        "zone": str(period.zone),
        "generated_at": generated_at,
        "workspace_zone": str(workspace_zone),
        "kpis": kpis,
        "engagement_chart": _bar_chart(
            days, [p.engagements for p in result.daily], rtl=rtl, caption=_("Engagements per day")
        ),
        "impression_chart": _bar_chart(
            days, [p.impressions for p in result.daily], rtl=rtl, caption=_("Impressions per day")
        )
        if any(p.impressions is not None for p in result.daily)
        else None,
        "funnel": funnel,
        "networks": networks,
        "heatmap": _heatmap(result.heatmap),
        "top_posts": [_post(r) for r in result.top_posts],
        "bottom_posts": [_post(r) for r in result.bottom_posts],
        "rank_by": result.rank_by,
        "definitions": definitions,
        "sections": SECTIONS,
    }


def workspace_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def report_html(access: WorkspaceAccess, request: ReportRequest) -> str:
    """The report as HTML in ``request.language``, times in the period's time zone."""
    zone: ZoneInfo = request.period.zone
    with translation.override(request.language), timezone.override(zone):
        result = reports.overview(access, request.scope, request.period, rank_by=request.rank_by)
        context = report_context(
            result,
            workspace_name=access.workspace.name,
            generated_at=timezone.now(),
            workspace_zone=workspace_zone(access.workspace.time_zone),
        )
        context["goals"] = report_goals(access, request.scope)
        return render_to_string("reports/report.html", context)


def report_goals(access: WorkspaceAccess, scope: AnalyticsScope) -> list[dict[str, Any]]:
    """The scope's goals as the dashboard's cards show them, measured today (a post has none).

    The PDF draws them as a table with progress bars: its charts carry no SVG text."""
    from minbar.analytics.goal_views import dashboard_goals

    return dashboard_goals(access, scope)


def render_pdf(access: WorkspaceAccess, request: ReportRequest) -> bytes:
    from weasyprint import HTML

    started = clock.monotonic()
    html = report_html(access, request)
    pdf = HTML(string=html).write_pdf()
    logger.info(
        "report PDF for %s (%s, %s days) in %.1f s",
        access.workspace.slug,
        request.scope.kind,
        request.period.days,
        clock.monotonic() - started,
    )
    assert pdf is not None
    return pdf


def filename(workspace_slug: str, request: ReportRequest) -> str:
    period = request.period
    return (
        f"{workspace_slug}-{request.scope.kind}-report-{period.first_day}-{period.last_day}"
        f"-{request.language}.pdf"
    )


def period_text(period: Period) -> str:
    return _("%(first)s to %(last)s") % {
        "first": formats.date_format(period.first_day, "DATE_FORMAT"),
        "last": formats.date_format(period.last_day, "DATE_FORMAT"),
    }
