from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.publishing import actions, bulk, calendar
from minbar.publishing.forms import THREAD_SEPARATOR, post_input_from
from minbar.publishing.models import Post, PostState, Target
from minbar.publishing.validation import counting_word, text_length
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm


def _zone(request: HttpRequest, access: WorkspaceAccess) -> str:
    return getattr(request.user, "time_zone", "") or access.workspace.time_zone


@workspace_view(Perm.VIEW_CONTENT)
def post_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    state = request.GET.get("state", "")
    posts = (
        Post.objects.filter(workspace=access.workspace)
        .prefetch_related("targets__channel")
        .select_related("author")
    )
    if state in PostState.values:
        posts = posts.filter(state=state)
    upcoming = posts.filter(
        state__in=(PostState.SCHEDULED, PostState.AWAITING_APPROVAL),
        scheduled_at__gte=timezone.now(),
    ).order_by("scheduled_at")
    return render(
        request,
        "publishing/list.html",
        {
            "posts": posts[:200],
            # Grouped by the viewer's local day, not the UTC one.
            "upcoming": calendar.agenda_days(list(upcoming[:50]), _zone(request, access)),
            "states": PostState.choices,
            "state": state,
            "can_write": access.can(Perm.CREATE_CONTENT),
        },
    )


def _compose_context(
    access: WorkspaceAccess, post: Post | None = None, form: QueryDict | None = None
) -> dict[str, Any]:
    channels = list(Channel.objects.filter(workspace=access.workspace))
    chosen: dict[int, Target] = {t.channel_id: t for t in post.targets.all()} if post else {}
    rows = []
    for channel in channels:
        target = chosen.get(channel.pk)
        if form is not None:
            rows.append(
                {
                    "channel": channel,
                    "checked": str(channel.pk) in form.getlist("channels"),
                    "override": bool(form.get(f"override_{channel.pk}")),
                    "text": form.get(f"text_{channel.pk}", ""),
                }
            )
        else:
            rows.append(
                {
                    "channel": channel,
                    "checked": target is not None,
                    "override": bool(target and target.text_overridden),
                    "text": target.text if target else "",
                }
            )
    return {
        "channels": channels,
        "channel_rows": rows,
        "form": form,
        "post": post,
        "thread_text": f"\n{THREAD_SEPARATOR}\n".join(post.thread) if post else "",
        "needs_approval": not access.can(Perm.PUBLISH_WITHOUT_APPROVAL),
    }


@workspace_view(Perm.CREATE_CONTENT)
def compose(
    request: HttpRequest, access: WorkspaceAccess, post_id: int | None = None
) -> HttpResponse:
    post = actions.get_post(access, post_id) if post_id else None
    context = _compose_context(access, post)
    if request.method == "POST":
        actor = Actor.from_request(request)
        try:
            post_input = post_input_from(request.POST, _zone(request, access))
            if post is None:
                post = actions.create_post(actor, access, post_input)
            else:
                post = actions.update_post(actor, access, post.pk, post_input)
        except ActionError as exc:
            context = _compose_context(access, post, request.POST) | {
                "error": exc.message,
                "field_errors": exc.fields,
            }
            return render(request, "publishing/compose.html", context, status=422)
        messages.success(
            request,
            {
                PostState.DRAFT: _("Draft saved."),
                PostState.AWAITING_APPROVAL: _("Sent for approval."),
                PostState.SCHEDULED: _(
                    "Scheduled. Minbar publishes it on time and tells you if anything goes wrong."
                ),
            }.get(PostState(post.state), _("Saved.")),
        )
        return redirect("publishing:detail", slug=access.workspace.slug, post_id=post.pk)
    return render(request, "publishing/compose.html", context)


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def check(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Live counters, problems and previews per chosen channel (HTMX)."""
    try:
        post_input = post_input_from(request.POST, _zone(request, access))
    except ActionError as exc:
        return render(request, "publishing/_check.html", {"error": exc.message})
    channels = Channel.objects.filter(workspace=access.workspace, pk__in=post_input.channel_ids)
    rows = [
        {
            "channel": check.channel,
            "label": check.caps.label,
            "text": check.text,
            "length": text_length(check.text, check.caps),
            "limit": check.caps.text.max_length,
            "unit": counting_word(check.caps),
            "problems": check.problems,
            "thread": post_input.thread,
            "first_comment": check.first_comment,
        }
        for check in actions.target_checks(post_input, channels)
    ]
    return render(request, "publishing/_check.html", {"rows": rows})


@workspace_view(Perm.VIEW_CONTENT)
def detail(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    try:
        post = actions.get_post(access, post_id)
    except ActionError:
        raise Http404 from None
    return render(
        request,
        "publishing/detail.html",
        {
            "post": post,
            "targets": post.targets.select_related("channel"),
            "events": post.events.select_related("actor", "target__channel"),
            "can_write": access.can(Perm.CREATE_CONTENT),
            "can_approve": access.can(Perm.APPROVE_CONTENT)
            and post.state == PostState.AWAITING_APPROVAL,
            "editable": post.state in actions.EDITABLE_STATES,
        },
    )


def _act(
    request: HttpRequest, access: WorkspaceAccess, post_id: int, done: str, call: Any
) -> HttpResponse:
    try:
        call()
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("publishing:detail", slug=access.workspace.slug, post_id=post_id)


@workspace_view(Perm.APPROVE_CONTENT)
@require_POST
def approve(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Approved."),
        lambda: actions.approve_post(actor, access, post_id, request.POST.get("comment", "")),
    )


@workspace_view(Perm.APPROVE_CONTENT)
@require_POST
def reject(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Sent back to the author with your comment."),
        lambda: actions.reject_post(actor, access, post_id, request.POST.get("comment", "")),
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def cancel(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Cancelled."),
        lambda: actions.cancel_post(actor, access, post_id),
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def retry(
    request: HttpRequest, access: WorkspaceAccess, post_id: int, target_id: int
) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Trying again now."),
        lambda: actions.retry(actor, access, target_id),
    )


CALENDAR_VIEWS = {
    "month": "publishing:calendar",
    "week": "publishing:calendar_week",
    "list": "publishing:calendar_list",
}
# The view a person last used (month, week or list), so "Calendar" opens it again.
CALENDAR_VIEW_SESSION_KEY = "minbar.calendar_view"
AGENDA_PAGE_SIZE = 50


def _calendar_posts(access: WorkspaceAccess, filters: calendar.CalendarFilters) -> QuerySet[Post]:
    return filters.apply(Post.objects.filter(workspace=access.workspace)).prefetch_related(
        Prefetch("targets", queryset=Target.objects.select_related("channel"))
    )


def _calendar_context(
    request: HttpRequest,
    access: WorkspaceAccess,
    view: str,
    filters: calendar.CalendarFilters,
    anchor: date,
) -> dict[str, Any]:
    """What every calendar view shows around its grid: switcher, filters, feed address."""
    if request.session.get(CALENDAR_VIEW_SESSION_KEY) != view:  # no session write per page
        request.session[CALENDAR_VIEW_SESSION_KEY] = view
    query = filters.query()
    switch = {
        "month": f"month={anchor:%Y-%m}",
        "week": f"week={anchor.isoformat()}",
        "list": f"from={anchor.isoformat()}",
    }
    views = [
        {
            "key": key,
            "label": label,
            "current": key == view,
            "url": reverse(CALENDAR_VIEWS[key], args=[access.workspace.slug])
            + "?"
            + "&".join(part for part in (switch[key], query) if part),
        }
        for key, label in (("month", _("Month")), ("week", _("Week")), ("list", _("List")))
    ]
    feed_url = filtered_feed_url = ""
    if access.can(Perm.VIEW_CONTENT):
        token = calendar.feed_token(Actor.from_request(request), access)
        feed_url = request.build_absolute_uri(reverse("publishing:ics", args=[token]))
        if filters.active:
            filtered_feed_url = f"{feed_url}?{query}"
    members = Membership.objects.filter(workspace=access.workspace).select_related("user")
    return {
        "calendar_view": view,
        "views": views,
        "filters": filters,
        "filter_query": query,
        "channels": Channel.objects.filter(workspace=access.workspace),
        "tags": sorted(
            {*calendar.known_tags(Post.objects.filter(workspace=access.workspace)), *filters.tags},
            key=str.casefold,
        ),
        "authors": sorted((m.user for m in members), key=lambda u: u.display_name.casefold()),
        "statuses": calendar.STATUS_CHOICES,
        "feed_url": feed_url,
        "filtered_feed_url": filtered_feed_url,
        "can_write": access.can(Perm.CREATE_CONTENT),
        "can_manage": access.can(Perm.MANAGE_WORKSPACE),
        "zone": _zone(request, access),
        "editable_states": [str(s) for s in actions.EDITABLE_STATES],
    }


def _today(request: HttpRequest, access: WorkspaceAccess) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(_zone(request, access))).date()


@workspace_view(Perm.VIEW_CONTENT)
def planner(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Open the calendar view this person used last, with the same query."""
    view = request.session.get(CALENDAR_VIEW_SESSION_KEY, "month")
    url = reverse(CALENDAR_VIEWS.get(view, "publishing:calendar"), args=[access.workspace.slug])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@workspace_view(Perm.VIEW_CONTENT)
def calendar_month(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    zone = _zone(request, access)
    today = _today(request, access)
    try:
        first = calendar.parse_month(request.GET.get("month", ""), today)
    except ActionError as exc:
        messages.error(request, exc.message)
        first = today.replace(day=1)
    filters = calendar.CalendarFilters.from_query(request.GET)
    anchor = today if (today.year, today.month) == (first.year, first.month) else first
    return render(
        request,
        "publishing/calendar.html",
        {
            "month": calendar.month_grid(_calendar_posts(access, filters), first, zone),
            "anchor_params": [("month", f"{first:%Y-%m}")],
            **_calendar_context(request, access, "month", filters, anchor),
        },
    )


@workspace_view(Perm.VIEW_CONTENT)
def calendar_week(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    zone = _zone(request, access)
    today = _today(request, access)
    try:
        day = calendar.parse_day(request.GET.get("week", ""), today)
    except ActionError as exc:
        messages.error(request, exc.message)
        day = today
    start = calendar.start_of_week(day, calendar.first_weekday())
    filters = calendar.CalendarFilters.from_query(request.GET)
    all_hours = request.GET.get("hours") == "all"
    week = calendar.week_grid(_calendar_posts(access, filters), start, zone, all_hours=all_hours)
    anchor = today if start <= today <= week.end else start
    return render(
        request,
        "publishing/week.html",
        {
            "week": week,
            "this_week": calendar.start_of_week(today, calendar.first_weekday()),
            "next_url": request.get_full_path(),
            "anchor_params": [
                ("week", start.isoformat()),
                *([("hours", "all")] if all_hours else []),
            ],
            **_calendar_context(request, access, "week", filters, anchor),
        },
    )


@workspace_view(Perm.VIEW_CONTENT)
def calendar_list(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    zone = _zone(request, access)
    today = _today(request, access)
    try:
        start = calendar.parse_day(request.GET.get("from", ""), today, "from")
    except ActionError as exc:
        messages.error(request, exc.message)
        start = today
    filters = calendar.CalendarFilters.from_query(request.GET)
    since = datetime.combine(start, time(), zoneinfo.ZoneInfo(zone))
    posts = (
        _calendar_posts(access, filters)
        .filter(scheduled_at__gte=since)
        .select_related("author")
        .order_by("scheduled_at", "pk")
    )
    page = Paginator(posts, AGENDA_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "publishing/agenda.html",
        {
            "page": page,
            "days": calendar.agenda_days(list(page.object_list), zone),
            "start": start,
            "today": today,
            "next_url": request.get_full_path(),
            "anchor_params": [("from", start.isoformat())],
            **_calendar_context(request, access, "list", filters, start),
        },
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def move(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    """A drop on the calendar: a day (month view) or a day and hour (week view)."""
    actor = Actor.from_request(request)
    zone = _zone(request, access)
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
        hour = request.POST.get("hour", "")
        if hour:
            actions.move_to(actor, access, post_id, day, int(hour), zone)
        else:
            actions.move_to_day(actor, access, post_id, day, zone)
    except ValueError:
        return HttpResponse(_("Drop the post on a day."), status=400)
    except ActionError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return HttpResponse(status=204)


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def reschedule(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    """The "Move…" form: a new local date and time typed in, for those who do not drag."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("publishing:planner", args=[access.workspace.slug])
    try:
        local = datetime.combine(
            date.fromisoformat(request.POST.get("date", "")),
            time.fromisoformat(request.POST.get("time", "")),
        )
    except ValueError:
        messages.error(request, _("Enter a date and a time to move the post to."))
        return redirect(back)
    try:
        actions.reschedule_to(
            Actor.from_request(request), access, post_id, local, _zone(request, access)
        )
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Moved."))
    return redirect(back)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def renew_feed(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    calendar.feed_token(Actor.from_request(request), access, renew=True)
    messages.success(request, _("The calendar has a new address; the old one stopped working."))
    return redirect("publishing:planner", slug=access.workspace.slug)


def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar.feed_for(token)
    if feed is None:
        raise Http404
    filters = calendar.CalendarFilters.from_query(request.GET)
    response = HttpResponse(
        calendar.ics(feed, settings.MINBAR_BASE_URL, filters),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'inline; filename="{feed.workspace.slug}.ics"'
    return response


@workspace_view(Perm.CREATE_CONTENT)
def import_posts(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    if request.GET.get("template"):
        response = HttpResponse(bulk.TEMPLATE, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="minbar-posts-template.csv"'
        return response
    context: dict[str, Any] = {"zone": _zone(request, access), "columns": bulk.COLUMNS}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a CSV file.")
        else:
            try:
                created = bulk.import_csv(
                    Actor.from_request(request), access, upload.read(), _zone(request, access)
                )
            except bulk.ImportRejected as exc:
                context |= {"error": exc.message, "row_errors": exc.errors}
            except ActionError as exc:
                context["error"] = exc.message
            else:
                messages.success(request, _("%(n)d posts imported.") % {"n": len(created)})
                return redirect("publishing:list", slug=access.workspace.slug)
        return render(request, "publishing/import.html", context, status=422)
    return render(request, "publishing/import.html", context)
