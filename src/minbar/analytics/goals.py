"""Goals: how far a metric has come towards its target, and where it is heading.

Every number is the dashboards' own: :func:`measure` asks
:func:`minbar.analytics.reports.overview` for the goal's scope and a period of
whole days in the goal's time zone, and reads one KPI. Nothing is re-derived.

- baseline: the metric over the same number of days just before the first day;
- target: the absolute value typed, or the baseline moved by the percentage
  (up for most metrics, down for response time, where lower is better);
- current: the metric from the first day through today (or the last day);
- projection to the last day: for metrics that add up over time (engagements,
  conversions, revenue, followers gained…) the pace so far continued linearly,
  ``current * days in the goal / days elapsed`` (today counts as a whole day);
  for rates, averages and medians (engagement rate, average reach, response rate and
  time) the current value, as a rate does not grow with time;
- status: *achieved* once an additive metric has reached its target (it cannot
  go back) or when the goal ended on target, *missed* when it ended short;
  before the end *on track* when the projection meets the target, *at risk*
  when it gets at least 90 % of the way (:data:`AT_RISK_SHARE`), *behind* below
  that; *not started* before the first day; *no data* when the metric or the
  target cannot be measured (a network that does not report it, a zero baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from minbar.analytics import reports
from minbar.analytics.models import Goal, TargetKind
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership, Workspace
from minbar.workspaces.roles import Role

AT_RISK_SHARE = 0.9
SERIES_POINTS = 7  # measured points drawn per goal, the last one today
CACHE_SECONDS = 300  # dashboards are minutes behind the networks anyway

STATUSES = ("not_started", "on_track", "at_risk", "behind", "achieved", "missed", "no_data")
STATUS_LABELS: dict[str, Promise] = {
    "not_started": _("Not started"),
    "on_track": _("On track"),
    "at_risk": _("At risk"),
    "behind": _("Behind"),
    "achieved": _("Achieved"),
    "missed": _("Missed"),
    "no_data": _("No data"),
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: Promise
    kpi: str  # the overview KPI it reads
    kind: str  # as Kpi.kind: "count", "rate", "seconds", "money", "average"
    additive: bool  # adds up over days: projected linearly
    lower_is_better: bool = False
    # Scopes it exists for (followers and response times are not per tag).
    scopes: tuple[str, ...] = ("workspace", "channel", "tag")
    # Typed value * entry_scale = the metric's unit (percent for rates, minutes).
    entry_scale: float = 1.0
    entry_unit: Promise | str = ""


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("engagements", _("Engagements"), "engagements", "count", True),
        Metric("impressions", _("Impressions"), "impressions", "count", True),
        Metric(
            "engagement_rate",
            _("Engagement rate (by impressions)"),
            "engagement_rate",
            "rate",
            False,
            entry_scale=0.01,
            entry_unit="%",
        ),
        Metric("average_reach", _("Average reach per post"), "average_reach", "average", False),
        Metric("clicks", _("Clicks on posts"), "clicks", "count", True),
        Metric("referrals", _("Referrals (short-link clicks)"), "referrals", "count", True),
        Metric("conversions", _("Conversions"), "conversions", "count", True),
        Metric("revenue", _("Revenue"), "revenue", "money", True),
        Metric(
            "followers_gained",
            _("Followers gained"),
            "followers",
            "count",
            True,
            scopes=("workspace", "channel"),
        ),
        Metric(
            "response_rate",
            _("Response rate"),
            "response_rate",
            "rate",
            False,
            scopes=("workspace", "channel"),
            entry_scale=0.01,
            entry_unit="%",
        ),
        Metric(
            "response_time",
            _("Median first response"),
            "response_time",
            "seconds",
            False,
            lower_is_better=True,
            scopes=("workspace", "channel"),
            entry_scale=60.0,
            entry_unit=_("minutes"),
        ),
    )
}


def reading_access(workspace: Workspace) -> WorkspaceAccess:
    """Read-only access to the workspace's numbers, as an analyst sees them (tasks, reports)."""
    membership = Membership(workspace=workspace, role=Role.ANALYST)
    return WorkspaceAccess(workspace=workspace, membership=membership, role=Role.ANALYST)


def zone_of(goal: Goal) -> ZoneInfo:
    try:
        return ZoneInfo(goal.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def scope_of(access: WorkspaceAccess, goal: Goal) -> reports.AnalyticsScope:
    return reports.resolve_scope(access, channel_id=goal.channel_id, tag=goal.tag)


def measure(
    access: WorkspaceAccess,
    scope: reports.AnalyticsScope,
    metric: Metric,
    period: reports.Period,
) -> float | None:
    """The metric over ``period`` exactly as the dashboard shows it (None: not measured)."""
    kpis = {k.key: k for k in reports.overview(access, scope, period, figures_only=True).kpis}
    kpi = kpis.get(metric.kpi)
    if kpi is None or kpi.value is None:
        return None
    if metric.key == "followers_gained":
        # The followers KPI is the count after the last day; "previous" the one before the first.
        return None if kpi.previous is None else float(kpi.value - kpi.previous)
    return float(kpi.value)


def baseline_period(goal: Goal) -> reports.Period:
    return reports.Period(goal.start_day, goal.end_day, zone_of(goal)).previous


def compute_baseline(access: WorkspaceAccess, goal: Goal) -> float | None:
    """The metric over the days just before the goal, as many as the goal has."""
    metric = METRICS[goal.metric]
    return measure(access, scope_of(access, goal), metric, baseline_period(goal))


def target_of(goal: Goal, baseline: float | None) -> float | None:
    """The target in the metric's unit; None for a percent target without a usable baseline."""
    metric = METRICS[goal.metric]
    typed = float(goal.target_value)
    if goal.target_kind == TargetKind.ABSOLUTE:
        return typed * metric.entry_scale
    if baseline is None or baseline == 0:
        return None
    percent = 100 - typed if metric.lower_is_better else 100 + typed
    return baseline * percent / 100


def meets(metric: Metric, value: float, target: float) -> bool:
    return value <= target if metric.lower_is_better else value >= target


def attainment(metric: Metric, value: float, target: float) -> float:
    """How much of the target a value reaches (1.0 = exactly; above 1 = beyond)."""
    if metric.lower_is_better:
        return float("inf") if value <= 0 else target / value
    return float("inf") if target <= 0 else value / target


def project(metric: Metric, current: float, elapsed_days: int, total_days: int) -> float:
    if metric.additive:
        return current * total_days / max(1, elapsed_days)
    return current


def status_of(
    metric: Metric,
    *,
    current: float | None,
    projection: float | None,
    target: float | None,
    started: bool,
    ended: bool,
) -> str:
    if not started:
        return "not_started"
    if current is None or projection is None or target is None:
        return "no_data"
    if ended:
        return "achieved" if meets(metric, current, target) else "missed"
    if metric.additive and not metric.lower_is_better and current >= target:
        return "achieved"
    if meets(metric, projection, target):
        return "on_track"
    if attainment(metric, projection, target) >= AT_RISK_SHARE:
        return "at_risk"
    return "behind"


@dataclass(frozen=True)
class GoalSummary:
    """One goal measured on ``today``: what a list, a dashboard, a report or an alert shows.

    Values are in the metric's unit (a rate 0.05 is 5 %, response time in seconds).
    ``series`` holds (day, value from the first day through that day) for the chart;
    ``progress`` is how much of the target the current value reaches (0.5 = half way).
    """

    goal_id: int
    name: str
    metric: str
    metric_label: str
    kind: str
    lower_is_better: bool
    additive: bool
    target_kind: str
    target_value: Decimal
    scope: str  # "workspace", "channel" or "tag"
    scope_label: str
    start_day: date
    end_day: date
    time_zone: str
    today: date
    baseline: float | None
    target: float | None
    current: float | None
    projection: float | None
    status: str
    status_label: str
    progress: float | None
    elapsed_days: int
    total_days: int
    owner_id: int | None
    series: list[tuple[date, float]] = field(default_factory=list)


def checkpoints(first: date, last: date, points: int = SERIES_POINTS) -> list[date]:
    """Up to ``points`` days spread evenly from ``first`` to ``last`` (both included)."""
    span = (last - first).days
    if span < 0:
        return []
    count = min(points, span + 1)
    if count == 1:
        return [last]
    return sorted({first + timedelta(days=round(span * i / (count - 1))) for i in range(count)})


def _cache_key(goal: Goal, days: list[date]) -> str:
    # Any edit changes updated_at or the baseline's time, so a changed goal is measured afresh.
    measured = goal.baseline_computed_at.timestamp() if goal.baseline_computed_at else 0
    stamp = f"{goal.updated_at.timestamp()}:{measured}"
    return f"minbar:goal:{goal.pk}:{stamp}:{days[0]}:{days[-1]}:{len(days)}"


def summarize(
    access: WorkspaceAccess,
    goal: Goal,
    *,
    today: date | None = None,
    series: bool = True,
    cached: bool = False,
) -> GoalSummary:
    """Measure ``goal`` as of ``today`` (default: today in the goal's time zone).

    ``cached``: pages may reuse measurements up to :data:`CACHE_SECONDS` old (a goal
    card costs one overview per chart point); alerts and the API always measure.
    """
    metric = METRICS[goal.metric]
    zone = zone_of(goal)
    today = today or timezone.now().astimezone(zone).date()
    scope = scope_of(access, goal)
    total_days = (goal.end_day - goal.start_day).days + 1
    started = today >= goal.start_day
    ended = today > goal.end_day
    through = min(today, goal.end_day)
    elapsed = max(0, (through - goal.start_day).days + 1)
    points: list[tuple[date, float]] = []
    current: float | None = None
    if started:
        days = checkpoints(goal.start_day, through) if series else [through]
        key = _cache_key(goal, days)
        found = cache.get(key) if cached else None
        if found is None:
            found = [
                (day, measure(access, scope, metric, reports.Period(goal.start_day, day, zone)))
                for day in days
            ]
            if cached:
                cache.set(key, found, CACHE_SECONDS)
        points = [(day, value) for day, value in found if value is not None]
        current = found[-1][1]
    target = target_of(goal, goal.baseline)
    projection = None if current is None else project(metric, current, elapsed, total_days)
    status = status_of(
        metric,
        current=current,
        projection=projection,
        target=target,
        started=started,
        ended=ended,
    )
    progress = None
    if current is not None and target is not None:
        progress = attainment(metric, current, target)
        if progress == float("inf"):
            progress = 1.0
    return GoalSummary(
        goal_id=goal.pk,
        name=goal.name,
        metric=goal.metric,
        metric_label=str(metric.label),
        kind=metric.kind,
        lower_is_better=metric.lower_is_better,
        additive=metric.additive,
        target_kind=goal.target_kind,
        target_value=goal.target_value,
        scope=scope.kind,
        scope_label=scope.title,
        start_day=goal.start_day,
        end_day=goal.end_day,
        time_zone=str(zone),
        today=today,
        baseline=goal.baseline,
        target=target,
        current=current,
        projection=projection,
        status=status,
        status_label=str(STATUS_LABELS[status]),
        progress=progress,
        elapsed_days=elapsed,
        total_days=total_days,
        owner_id=goal.owner_id,
        series=points,
    )


def goals_in_scope(
    workspace: Workspace, *, channel_id: int | None = None, tag: str | None = None
) -> QuerySet[Goal]:
    """The goals of exactly one scope: the workspace (no arguments), a channel or a tag."""
    goals = Goal.objects.filter(workspace=workspace)
    if channel_id is not None:
        return goals.filter(channel_id=channel_id)
    if tag:
        return goals.filter(channel__isnull=True, tag=tag.strip().lstrip("#"))
    return goals.filter(channel__isnull=True, tag="")


def goal_summaries(
    workspace: Workspace,
    *,
    channel_id: int | None = None,
    tag: str | None = None,
    today: date | None = None,
    cached: bool = False,
) -> list[GoalSummary]:
    """Every goal of a scope, measured: the workspace's own, one channel's or one tag's.

    ``today`` is a day in each goal's own time zone (default: today there). The caller
    decides who may see them; the numbers are those anyone who may view analytics sees.
    """
    access = reading_access(workspace)
    return [
        summarize(access, goal, today=today, cached=cached)
        for goal in goals_in_scope(workspace, channel_id=channel_id, tag=tag)
    ]


def all_summaries(
    access: WorkspaceAccess, *, today: date | None = None, cached: bool = False
) -> list[GoalSummary]:
    """Every goal of the workspace, whatever its scope (the goals page)."""
    return [
        summarize(access, goal, today=today, cached=cached)
        for goal in Goal.objects.filter(workspace=access.workspace)
    ]
