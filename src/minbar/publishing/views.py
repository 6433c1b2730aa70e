from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput, NotFound
from minbar.publishing import actions, bulk, calendar
from minbar.publishing.forms import THREAD_SEPARATOR, post_input_from
from minbar.publishing.models import Post, PostState, Target
from minbar.publishing.validation import counting_word, text_length
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
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
            "upcoming": upcoming[:50],
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
            "time_zone": _zone(request, access),
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


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def reschedule(
    request: HttpRequest, access: WorkspaceAccess, post_id: int, target_id: int
) -> HttpResponse:
    actor = Actor.from_request(request)
    zone = _zone(request, access)

    def run() -> None:
        if not Target.objects.filter(pk=target_id, post_id=post_id).exists():
            raise NotFound(_("No such post."))
        try:
            at = datetime.fromisoformat(request.POST.get("at", ""))
        except ValueError:
            raise InvalidInput(_("Enter a date and a time.")) from None
        actions.reschedule_target(actor, access, target_id, at.replace(tzinfo=None), zone)

    return _act(request, access, post_id, _("The post has a new time."), run)


@workspace_view(Perm.VIEW_CONTENT)
def calendar_month(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    zone = _zone(request, access)
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    try:
        first = calendar.parse_month(request.GET.get("month", ""), today)
    except ActionError as exc:
        messages.error(request, exc.message)
        first = today.replace(day=1)
    posts = Post.objects.filter(
        workspace=access.workspace, state__in=calendar.SHOWN_STATES
    ).prefetch_related("targets__channel")
    channel = request.GET.get("channel", "")
    if channel.isdigit():
        posts = posts.filter(targets__channel_id=int(channel)).distinct()
    state = request.GET.get("state", "")
    if state in PostState.values:
        posts = posts.filter(state=state)
    feed_url = ""
    if access.can(Perm.VIEW_CONTENT):
        token = calendar.feed_token(Actor.from_request(request), access)
        feed_url = request.build_absolute_uri(reverse("publishing:ics", args=[token]))
    return render(
        request,
        "publishing/calendar.html",
        {
            "month": calendar.month_grid(posts, first, zone),
            "channels": Channel.objects.filter(workspace=access.workspace),
            "channel": channel,
            "state": state,
            "states": PostState.choices,
            "feed_url": feed_url,
            "can_write": access.can(Perm.CREATE_CONTENT),
            "can_manage": access.can(Perm.MANAGE_WORKSPACE),
        },
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def move(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
        actions.move_to_day(
            Actor.from_request(request), access, post_id, day, _zone(request, access)
        )
    except ValueError:
        return HttpResponse(_("Drop the post on a day."), status=400)
    except ActionError as exc:
        return HttpResponse(exc.message, status=exc.status)
    return HttpResponse(status=204)


@workspace_view(Perm.MANAGE_WORKSPACE)
@require_POST
def renew_feed(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    calendar.feed_token(Actor.from_request(request), access, renew=True)
    messages.success(request, _("The calendar has a new address; the old one stopped working."))
    return redirect("publishing:calendar", slug=access.workspace.slug)


def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar.feed_for(token)
    if feed is None:
        raise Http404
    response = HttpResponse(
        calendar.ics(feed, settings.MINBAR_BASE_URL), content_type="text/calendar; charset=utf-8"
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
