"""Goals in the API: list, create, read, update, delete, re-measure, progress (docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from minbar.analytics import actions
from minbar.analytics import goals as g
from minbar.analytics.models import Goal
from minbar.api import ErrorOut, api_access, api_actor

router = Router(tags=["goals"])

_ERRORS: dict[int, type[Schema]] = {403: ErrorOut, 404: ErrorOut}


class GoalOut(Schema):
    id: int
    name: str
    metric: str
    target_kind: str
    target_value: Decimal
    start_day: date
    end_day: date
    time_zone: str
    channel_id: int | None
    tag: str
    owner_id: int | None
    baseline: float | None
    baseline_computed_at: datetime | None
    last_status: str
    created_at: datetime


class GoalIn(Schema):
    # Defaults everywhere: a missing field is reported by the action, field by field.
    name: str = ""
    metric: str = ""
    target_kind: str = "percent"
    target_value: Decimal | None = None
    start_day: date | None = None
    end_day: date | None = None
    channel_id: int | None = None
    tag: str = ""
    owner_id: int | None = None
    time_zone: str = ""


class GoalPatch(Schema):
    name: str | None = None
    metric: str | None = None
    target_kind: str | None = None
    target_value: Decimal | None = None
    start_day: date | None = None
    end_day: date | None = None
    channel_id: int | None = None
    tag: str | None = None
    owner_id: int | None = None
    time_zone: str | None = None


class PointOut(Schema):
    day: date
    value: float


class ProgressOut(Schema):
    goal_id: int
    name: str
    metric: str
    metric_label: str
    kind: str
    lower_is_better: bool
    scope: str
    start_day: date
    end_day: date
    time_zone: str
    today: date
    baseline: float | None
    target: float | None
    current: float | None
    projection: float | None
    progress: float | None
    status: str
    elapsed_days: int
    total_days: int
    series: list[PointOut]


class MetricOut(Schema):
    key: str
    label: str
    kind: str
    additive: bool
    lower_is_better: bool
    scopes: list[str]
    entry_unit: str


def _progress(summary: g.GoalSummary) -> dict[str, Any]:
    return {
        **{name: getattr(summary, name) for name in ProgressOut.model_fields if name != "series"},
        "series": [{"day": day, "value": value} for day, value in summary.series],
    }


@router.get("/{slug}/goals/metrics", response={200: list[MetricOut], **_ERRORS})
def goal_metrics(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The metrics a goal can follow, with the unit a target is entered in."""
    actions.goals_for(api_access(request, slug))
    return [
        {
            "key": m.key,
            "label": str(m.label),
            "kind": m.kind,
            "additive": m.additive,
            "lower_is_better": m.lower_is_better,
            "scopes": list(m.scopes),
            "entry_unit": str(m.entry_unit),
        }
        for m in g.METRICS.values()
    ]


@router.get("/{slug}/goals", response={200: list[GoalOut], **_ERRORS})
def list_goals(request: HttpRequest, slug: str) -> list[Goal]:
    return list(actions.goals_for(api_access(request, slug)))


@router.post(
    "/{slug}/goals",
    response={201: GoalOut, 422: ErrorOut, **_ERRORS},
    summary="Create a goal (the baseline is measured now)",
)
def create_goal(request: HttpRequest, slug: str, payload: GoalIn) -> Status:
    access = api_access(request, slug)
    data = actions.GoalInput(**payload.dict())
    return Status(201, actions.create_goal(api_actor(request), access, data))


@router.get("/{slug}/goals/{goal_id}", response={200: GoalOut, **_ERRORS})
def get_goal(request: HttpRequest, slug: str, goal_id: int) -> Goal:
    return actions.get_goal(api_access(request, slug), goal_id)


@router.patch("/{slug}/goals/{goal_id}", response={200: GoalOut, 422: ErrorOut, **_ERRORS})
def update_goal(request: HttpRequest, slug: str, goal_id: int, payload: GoalPatch) -> Goal:
    access = api_access(request, slug)
    goal = actions.get_goal(access, goal_id)
    sent = payload.dict(exclude_unset=True)
    data = actions.GoalInput(
        name=sent.get("name", goal.name),
        metric=sent.get("metric", goal.metric),
        target_kind=sent.get("target_kind", goal.target_kind),
        target_value=sent.get("target_value", goal.target_value),
        start_day=sent.get("start_day", goal.start_day),
        end_day=sent.get("end_day", goal.end_day),
        channel_id=sent.get("channel_id", goal.channel_id),
        tag=sent.get("tag", goal.tag) or "",
        owner_id=sent.get("owner_id", goal.owner_id),
        time_zone=sent.get("time_zone", goal.time_zone) or "",
    )
    return actions.update_goal(api_actor(request), access, goal_id, data)


@router.delete("/{slug}/goals/{goal_id}", response={204: None, **_ERRORS})
def delete_goal(request: HttpRequest, slug: str, goal_id: int) -> Status:
    actions.delete_goal(api_actor(request), api_access(request, slug), goal_id)
    return Status(204, None)


@router.post(
    "/{slug}/goals/{goal_id}/baseline",
    response={200: GoalOut, 422: ErrorOut, **_ERRORS},
    summary="Measure the baseline again",
)
def recompute_baseline(request: HttpRequest, slug: str, goal_id: int) -> Goal:
    return actions.recompute_baseline(api_actor(request), api_access(request, slug), goal_id)


@router.get("/{slug}/goals/{goal_id}/progress", response={200: ProgressOut, **_ERRORS})
def goal_progress(request: HttpRequest, slug: str, goal_id: int) -> dict[str, Any]:
    """Baseline, target, current value, projection to the last day and status, with the series.

    Values are in the metric's unit (a rate of 0.05 is 5 %, response time in seconds).
    """
    access = api_access(request, slug)
    goal = actions.get_goal(access, goal_id)
    return _progress(g.summarize(g.reading_access(access.workspace), goal))
