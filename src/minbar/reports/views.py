"""Report pages: PDFs of a dashboard, and the scheduled email reports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.analytics import reports as analytics
from minbar.analytics.views import _date, _viewer_zone
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput, NotFound
from minbar.reports import actions, pdf
from minbar.reports.forms import ScheduleForm
from minbar.reports.models import Frequency, ReportSchedule
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm

# -- PDFs -----------------------------------------------------------------------------


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def _report_request(request: HttpRequest, access: WorkspaceAccess) -> pdf.ReportRequest:
    """The dashboard's own query (scope, period, ranking) and the language asked for."""
    params = request.POST if request.method == "POST" else request.GET
    zone = _viewer_zone()
    period = analytics.period_for(
        zone,
        timezone.now().astimezone(zone).date(),
        days=_int(params.get("days", "")),
        start=_date(params.get("start", ""), "start"),
        end=_date(params.get("end", ""), "end"),
    )
    try:
        return actions.report_request(
            access,
            period,
            language=params.get("language") or translation.get_language() or "en",
            channel_id=_int(params.get("channel", "")),
            post_id=_int(params.get("post", "")),
            tag=params.get("tag", ""),
            rank_by=params.get("rank", ""),
        )
    except NotFound:
        raise Http404 from None


def _pdf_response(name: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@workspace_view(Perm.VIEW_ANALYTICS)
def report_pdf(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The PDF straight away (the address the button falls back to without JavaScript)."""
    try:
        wanted = _report_request(request, access)
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=422, content_type="text/plain; charset=utf-8")
    content = actions.render_report(access, wanted)
    return _pdf_response(pdf.filename(access.workspace.slug, wanted), content)


@workspace_view(Perm.VIEW_ANALYTICS)
@require_POST
def prepare_pdf(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """HTMX: render the PDF while the page shows "preparing…", then offer the download."""
    try:
        wanted = _report_request(request, access)
        token = actions.prepare_report(access, wanted)
    except ActionError as exc:
        return render(request, "reports/_pdf_status.html", {"error": exc.message}, status=200)
    url = reverse("reports:prepared", args=[access.workspace.slug, token])
    return render(request, "reports/_pdf_status.html", {"url": url})


@workspace_view(Perm.VIEW_ANALYTICS)
def prepared_pdf(request: HttpRequest, access: WorkspaceAccess, token: str) -> HttpResponse:
    try:
        name, content = actions.prepared_report(access, token)
    except NotFound:
        raise Http404 from None
    return _pdf_response(name, content)


# -- schedules --------------------------------------------------------------------------


def _schedule_row(schedule: ReportSchedule) -> dict[str, Any]:
    if schedule.frequency == Frequency.WEEKLY:
        when = _("Every %(day)s at %(hour)s") % {
            "day": WEEKDAYS[schedule.weekday],
            "hour": f"{schedule.hour:02d}:00",
        }
    else:
        when = _("Monthly on day %(day)s at %(hour)s") % {
            "day": schedule.day_of_month,
            "hour": f"{schedule.hour:02d}:00",
        }
    scope = {
        "workspace": _("Whole workspace"),
        "channel": schedule.channel.handle if schedule.channel else _("(removed)"),
        "post": _("Post %(id)s") % {"id": schedule.post_id} if schedule.post_id else _("(removed)"),
        "tag": f"#{schedule.tag}",
    }[schedule.scope]
    return {
        "schedule": schedule,
        "when": when,
        "scope": scope,
        "recipients": len(schedule.members.all()) + len(schedule.emails),
    }


@workspace_view(Perm.VIEW_ANALYTICS)
def schedule_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    rows = [_schedule_row(s) for s in actions.schedules_for(access)]
    return render(
        request,
        "reports/schedules.html",
        {
            "rows": rows,
            "can_manage": access.can(Perm.MANAGE_REPORTS),
            "zone": access.workspace.time_zone,
        },
    )


def _form(request: HttpRequest, access: WorkspaceAccess, initial: dict[str, Any]) -> ScheduleForm:
    channels = [
        (c.pk, f"{c.handle} ({c.network})")
        for c in Channel.objects.filter(workspace=access.workspace).order_by("network", "handle")
    ]
    members = [
        (m.user_id, m.user.get_full_name() or m.user.username)
        for m in Membership.objects.filter(workspace=access.workspace, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ]
    return ScheduleForm(request.POST or None, initial=initial, channels=channels, members=members)


def _input(form: ScheduleForm) -> actions.ScheduleInput:
    data = form.cleaned_data
    return actions.ScheduleInput(
        name=data["name"],
        scope=data["scope"],
        channel_id=data.get("channel"),
        post_id=data.get("post"),
        tag=data.get("tag", ""),
        frequency=data["frequency"],
        weekday=data["weekday"],
        day_of_month=data["day_of_month"],
        hour=data["hour"],
        language=data["language"],
        member_ids=list(data.get("members", [])),
        emails=form.email_list(),
        enabled=data.get("enabled", False),
    )


def _apply_errors(form: ScheduleForm, exc: ActionError) -> None:
    for name, text in exc.fields.items():
        form.add_error(name if name in form.fields else None, text)
    if not exc.fields:
        form.add_error(None, exc.message)


def _form_page(
    request: HttpRequest,
    access: WorkspaceAccess,
    form: ScheduleForm,
    schedule: ReportSchedule | None,
) -> HttpResponse:
    return render(
        request,
        "reports/schedule_form.html",
        {"form": form, "schedule": schedule, "zone": access.workspace.time_zone},
        status=422 if form.is_bound and form.errors else 200,
    )


@workspace_view(Perm.MANAGE_REPORTS)
def schedule_create(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    initial = {
        "frequency": Frequency.WEEKLY,
        "weekday": 0,
        "day_of_month": 1,
        "hour": 9,
        "language": translation.get_language() or "en",
        "enabled": True,
        "scope": "workspace",
        "members": [request.user.pk],
    }
    form = _form(request, access, initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_schedule(Actor.from_request(request), access, _input(form))
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The report is scheduled."))
            return redirect("reports:schedules", slug=access.workspace.slug)
    return _form_page(request, access, form, None)


@workspace_view(Perm.MANAGE_REPORTS)
def schedule_edit(request: HttpRequest, access: WorkspaceAccess, schedule_id: int) -> HttpResponse:
    try:
        schedule = actions.get_schedule(access, schedule_id)
    except NotFound:
        raise Http404 from None
    initial = {
        "name": schedule.name,
        "scope": schedule.scope,
        "channel": schedule.channel_id,
        "post": schedule.post_id,
        "tag": schedule.tag,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "language": schedule.language,
        "members": [u.pk for u in schedule.members.all()],
        "emails": "\n".join(schedule.emails),
        "enabled": schedule.enabled,
    }
    form = _form(request, access, initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_schedule(Actor.from_request(request), access, schedule.pk, _input(form))
        except ActionError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The scheduled report is saved."))
            return redirect("reports:schedules", slug=access.workspace.slug)
    return _form_page(request, access, form, schedule)


@workspace_view(Perm.MANAGE_REPORTS)
@require_POST
def schedule_delete(
    request: HttpRequest, access: WorkspaceAccess, schedule_id: int
) -> HttpResponse:
    try:
        actions.delete_schedule(Actor.from_request(request), access, schedule_id)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The scheduled report is deleted."))
    return redirect("reports:schedules", slug=access.workspace.slug)


@workspace_view(Perm.MANAGE_REPORTS)
@require_POST
def schedule_send(request: HttpRequest, access: WorkspaceAccess, schedule_id: int) -> HttpResponse:
    try:
        actions.request_send_now(Actor.from_request(request), access, schedule_id)
    except NotFound:
        raise Http404 from None
    messages.success(
        request,
        _("The report is being sent. This page shows when it went out, or what went wrong."),
    )
    return redirect("reports:schedules", slug=access.workspace.slug)
