"""The reports API: a dashboard as PDF, and scheduled email reports (docs/reports.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status

from minbar.analytics import reports as analytics
from minbar.analytics.api import _zone
from minbar.api import ErrorOut, api_access, api_actor
from minbar.reports import actions, pdf
from minbar.reports.models import ReportSchedule

router = Router(tags=["reports"])
_ERRORS: dict[int, Any] = {403: ErrorOut, 404: ErrorOut}


@router.get(
    "/{slug}/reports/pdf",
    response={200: bytes, 422: ErrorOut, **_ERRORS},
    summary="The analytics dashboard as a PDF report (English or Arabic)",
    openapi_extra={
        "responses": {200: {"description": "The PDF", "content": {"application/pdf": {}}}}
    },
)
def report_pdf(
    request: HttpRequest,
    slug: str,
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
    channel: int | None = None,
    post: int | None = None,
    tag: str = "",
    rank: str = "engagements",
    language: str = "",
    tz: str = "",
) -> HttpResponse:
    """The same scope and period parameters as ``GET …/analytics``; ``language`` is
    ``en`` or ``ar`` (default: your profile's, else the workspace's)."""
    access = api_access(request, slug)
    user = access.membership.user
    zone = _zone(tz, getattr(user, "time_zone", "") or access.workspace.time_zone)
    period = analytics.period_for(
        zone, timezone.now().astimezone(zone).date(), days=days, start=start, end=end
    )
    wanted = actions.report_request(
        access,
        period,
        language=language or getattr(user, "language", "") or access.workspace.language,
        channel_id=channel,
        post_id=post,
        tag=tag,
        rank_by=rank,
    )
    response = HttpResponse(actions.render_report(access, wanted), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{pdf.filename(access.workspace.slug, wanted)}"'
    )
    return response


class ScheduleIn(Schema):
    name: str
    frequency: str = "weekly"
    weekday: int = 0
    day_of_month: int = 1
    hour: int = 9
    language: str = "en"
    scope: str = "workspace"
    channel_id: int | None = None
    post_id: int | None = None
    tag: str = ""
    member_ids: list[int] = []
    emails: list[str] = []
    enabled: bool = True


class ScheduleOut(Schema):
    id: int
    name: str
    frequency: str
    weekday: int
    day_of_month: int
    hour: int
    time_zone: str
    language: str
    scope: str
    channel_id: int | None
    post_id: int | None
    tag: str
    member_ids: list[int]
    emails: list[str]
    enabled: bool
    next_run_at: datetime | None
    last_sent_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str


def _out(schedule: ReportSchedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "time_zone": schedule.workspace.time_zone,
        "language": schedule.language,
        "scope": schedule.scope,
        "channel_id": schedule.channel_id,
        "post_id": schedule.post_id,
        "tag": schedule.tag,
        "member_ids": sorted(u.pk for u in schedule.members.all()),
        "emails": list(schedule.emails),
        "enabled": schedule.enabled,
        "next_run_at": schedule.next_run_at,
        "last_sent_at": schedule.last_sent_at,
        "last_attempt_at": schedule.last_attempt_at,
        "last_error": schedule.last_error,
    }


def _input(payload: ScheduleIn) -> actions.ScheduleInput:
    return actions.ScheduleInput(**payload.dict())


@router.get("/{slug}/report-schedules", response={200: list[ScheduleOut], **_ERRORS})
def list_schedules(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    return [_out(s) for s in actions.schedules_for(api_access(request, slug))]


@router.post(
    "/{slug}/report-schedules",
    response={201: ScheduleOut, 422: ErrorOut, **_ERRORS},
    summary="Schedule a weekly or monthly email report",
)
def create_schedule(request: HttpRequest, slug: str, payload: ScheduleIn) -> Status:
    access = api_access(request, slug)
    schedule = actions.create_schedule(api_actor(request), access, _input(payload))
    return Status(201, _out(actions.get_schedule(access, schedule.pk)))


@router.get("/{slug}/report-schedules/{schedule_id}", response={200: ScheduleOut, **_ERRORS})
def get_schedule(request: HttpRequest, slug: str, schedule_id: int) -> dict[str, Any]:
    return _out(actions.get_schedule(api_access(request, slug), schedule_id))


@router.put(
    "/{slug}/report-schedules/{schedule_id}",
    response={200: ScheduleOut, 422: ErrorOut, **_ERRORS},
)
def update_schedule(
    request: HttpRequest, slug: str, schedule_id: int, payload: ScheduleIn
) -> dict[str, Any]:
    access = api_access(request, slug)
    actions.update_schedule(api_actor(request), access, schedule_id, _input(payload))
    return _out(actions.get_schedule(access, schedule_id))


@router.delete("/{slug}/report-schedules/{schedule_id}", response={204: None, **_ERRORS})
def delete_schedule(request: HttpRequest, slug: str, schedule_id: int) -> Status:
    actions.delete_schedule(api_actor(request), api_access(request, slug), schedule_id)
    return Status(204, None)


@router.post(
    "/{slug}/report-schedules/{schedule_id}/send",
    response={202: ScheduleOut, **_ERRORS},
    summary="Send the report now (the period it would cover if due today)",
)
def send_schedule(request: HttpRequest, slug: str, schedule_id: int) -> Status:
    access = api_access(request, slug)
    actions.request_send_now(api_actor(request), access, schedule_id)
    return Status(202, _out(actions.get_schedule(access, schedule_id)))
