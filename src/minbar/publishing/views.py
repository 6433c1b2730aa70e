from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS as DJANGO_WEEKDAYS
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minbar.accounts.models import User
from minbar.channels import actions as channel_actions
from minbar.channels.actions import connector_for
from minbar.channels.models import Channel
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput, NotFound
from minbar.core.writes import write_transaction
from minbar.links.actions import set_post_tracking
from minbar.media import actions as media_actions
from minbar.media import queries as media_queries
from minbar.media.actions import UploadRefused
from minbar.media.models import MediaAsset
from minbar.media.processing import ACCEPTED_TYPES, human_size, media_limits
from minbar.publishing import (
    actions,
    approvals,
    autosave,
    bulk,
    calendar,
    post_options,
    previews,
    queue,
    series,
)
from minbar.publishing import versions as post_versions
from minbar.publishing.forms import (
    MAX_STEPS,
    THREAD_SEPARATOR,
    media_from,
    option_prefix,
    options_from,
    policy_input_from,
    post_input_from,
)
from minbar.publishing.labels import EVENT_LABELS
from minbar.publishing.models import Post, PostState, QueueSchedule, Target, TargetState
from minbar.publishing.target_media import all_asset_ids, asset_ids, load_assets
from minbar.publishing.validation import counting_word, text_length
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm, has_perm

WEEKDAYS = sorted(DJANGO_WEEKDAYS.items())  # Monday = 0, translated by Django


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


def _media_rows(
    access: WorkspaceAccess, items: list[dict[str, Any]], assets: dict[int, MediaAsset]
) -> list[dict[str, Any]]:
    """Attached files as the composer lists them: thumbnail, name, this post's alt text."""
    rows = []
    for item in items:
        asset = assets.get(int(item.get("asset") or 0))
        if asset is None:
            continue  # not (or no longer) in this workspace's library
        rows.append(
            {
                "id": asset.pk,
                "name": asset.original_filename,
                "kind": asset.kind,
                "thumb": reverse("media:thumbnail", args=[access.workspace.slug, asset.pk])
                if asset.thumbnail
                else "",
                "alt_text": str(item.get("alt_text") or ""),
            }
        )
    return rows


def _form_media(form: QueryDict, list_name: str, alt_prefix: str) -> list[dict[str, Any]]:
    try:
        choices = media_from(form, list_name, alt_prefix)
    except ActionError:
        return []
    return [{"asset": c.asset, "alt_text": c.alt_text or ""} for c in choices]


def _option_rows(
    channel: Channel, target: Target | None, form: QueryDict | None, time_zone: str
) -> dict[str, Any]:
    """The channel's network settings as composer fields, filled from the form or the target,
    with the network's name."""
    caps = connector_for(channel).account_capabilities()
    prefix = option_prefix(channel.pk)
    if form is not None:
        rows = post_options.form_rows(caps, options_from(form, channel.pk), time_zone, prefix)
    else:
        values = dict(target.options) if target else {}
        rows = post_options.form_rows(caps, values, time_zone, prefix, fresh=target is None)
    return {"options": rows, "network_label": caps.label, "can_post": bool(caps.post_types)}


def _compose_context(
    access: WorkspaceAccess,
    post: Post | None = None,
    form: QueryDict | None = None,
    time_zone: str = "UTC",
) -> dict[str, Any]:
    channels = list(Channel.objects.filter(workspace=access.workspace))
    chosen: dict[int, Target] = {t.channel_id: t for t in post.targets.all()} if post else {}
    rows: list[dict[str, Any]] = []
    for channel in channels:
        target = chosen.get(channel.pk)
        if form is not None:
            rows.append(
                {
                    "channel": channel,
                    "checked": str(channel.pk) in form.getlist("channels"),
                    "override": bool(form.get(f"override_{channel.pk}")),
                    "text": form.get(f"text_{channel.pk}", ""),
                    "override_media": bool(form.get(f"override_media_{channel.pk}")),
                    "media": _form_media(form, f"media_{channel.pk}", f"alt_{channel.pk}_"),
                    "override_more": bool(form.get(f"override_more_{channel.pk}")),
                    "link": form.get(f"link_{channel.pk}", ""),
                    "thread": form.get(f"thread_{channel.pk}", ""),
                    "first_comment": form.get(f"first_comment_{channel.pk}", ""),
                    **_option_rows(channel, target, form, time_zone),
                }
            )
        else:
            rows.append(
                {
                    "channel": channel,
                    "checked": target is not None,
                    "override": bool(target and target.text_overridden),
                    "text": target.text if target else "",
                    "override_media": bool(target and target.media_overridden),
                    "media": list(target.media) if target and target.media_overridden else [],
                    "override_more": bool(
                        target and (target.link or target.thread or target.first_comment)
                    ),
                    "link": target.link if target else "",
                    "thread": f"\n{THREAD_SEPARATOR}\n".join(target.thread) if target else "",
                    "first_comment": target.first_comment if target else "",
                    **_option_rows(channel, target, form, time_zone),
                }
            )
    shared = (
        _form_media(form, "media", "alt_") if form is not None else list(post.media if post else [])
    )
    ids = asset_ids(shared) + [i for row in rows for i in asset_ids(row["media"])]
    assets = load_assets(access.workspace.pk, ids)
    for row in rows:
        row["media"] = _media_rows(access, row["media"], assets)
    limits = media_limits()
    return {
        "channels": channels,
        "channel_rows": rows,
        "media_rows": _media_rows(access, shared, assets),
        "media_folders": media_queries.folders_of(access.workspace),
        "media_tags": media_queries.tags_of(access.workspace),
        # Filled in by composer.js for files picked or uploaded while writing.
        "template_item": {"id": "__ID__", "name": "__NAME__", "kind": "", "thumb": "__THUMB__"},
        "media_accept": ",".join(ACCEPTED_TYPES),
        "media_max_image": human_size(limits.max_image_bytes),
        "media_max_video": human_size(limits.max_video_bytes),
        "form": form,
        "post": post,
        "thread_text": f"\n{THREAD_SEPARATOR}\n".join(post.thread) if post else "",
        "needs_approval": not access.can(Perm.PUBLISH_WITHOUT_APPROVAL),
        "weekday_choices": WEEKDAYS,
        "repeat_weekdays": form.getlist("repeat_weekdays") if form is not None else [],
    }


@workspace_view(Perm.CREATE_CONTENT)
def compose(
    request: HttpRequest, access: WorkspaceAccess, post_id: int | None = None
) -> HttpResponse:
    post = actions.get_post(access, post_id) if post_id else None
    user: User = request.user  # type: ignore[assignment]
    context = _compose_context(access, post, time_zone=_zone(request, access))
    unsaved = autosave.waiting(user, access.workspace, post)
    if request.method == "GET" and unsaved is not None:
        if request.GET.get("restore"):
            context = _compose_context(
                access, post, autosave.as_form(unsaved), _zone(request, access)
            )
            context["restored_at"] = unsaved.saved_at
        else:
            context["unsaved_at"] = unsaved.saved_at
    if request.method == "POST" and request.POST.get("discard_autosave"):
        autosave.forget(user, access.workspace, post)
        messages.success(request, _("Unsaved changes discarded."))
        return redirect(request.path)
    if request.method == "POST":
        actor = Actor.from_request(request)
        original = post
        try:
            post_input = post_input_from(request.POST, _zone(request, access))
            # One transaction: a post sent at once is dispatched after its toggle is saved.
            with write_transaction():
                if post is None:
                    post = actions.create_post(actor, access, post_input)
                else:
                    post = actions.update_post(actor, access, post.pk, post_input)
                if request.POST.get("track_links_shown"):  # the "Track links" toggle
                    track = bool(request.POST.get("track_links"))
                    set_post_tracking(actor, access, post.pk, track)
            autosave.forget(user, access.workspace, original)
        except ActionError as exc:
            context = _compose_context(access, post, request.POST, _zone(request, access)) | {
                "error": exc.message,
                "field_errors": exc.fields,
                "queue_missing": _without_slots(access, request.POST),
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


def _without_slots(access: WorkspaceAccess, form: QueryDict) -> list[Channel]:
    """Chosen channels that "add to queue" cannot use yet (linked from the error)."""
    if form.get("when") != "queue":
        return []
    ids = [int(raw) for raw in form.getlist("channels") if raw.isdigit()]
    return list(
        Channel.objects.filter(workspace=access.workspace, pk__in=ids).exclude(
            queue_schedule__slots__isnull=False
        )
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def check(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Live counters, problems and previews per chosen channel (HTMX); also autosaves."""
    raw_post = request.POST.get("post_id", "")
    edited = (
        Post.objects.filter(workspace=access.workspace, pk=int(raw_post)).first()
        if raw_post.isdigit()
        else None
    )
    if edited is not None or not raw_post:
        autosave.keep(request.user, access.workspace, edited, request.POST)  # type: ignore[arg-type]
    try:
        post_input = post_input_from(request.POST, _zone(request, access))
    except ActionError as exc:
        return render(request, "publishing/_check.html", {"error": exc.message})
    channels = list(
        Channel.objects.filter(workspace=access.workspace, pk__in=post_input.channel_ids)
    )
    ids = all_asset_ids(
        post_input.media, (v.media for v in post_input.variants.values() if v.media is not None)
    )
    assets = load_assets(access.workspace.pk, ids)
    slots = _queue_preview(request, channels) if post_input.when == "queue" else {}
    rows = []
    for check in actions.target_checks(post_input, channels, assets=assets):
        flavour = str(check.channel.get_credentials().data.get("flavour") or "")
        family = previews.family_of(check.channel, check.caps, flavour)
        rows.append(
            {
                "channel": check.channel,
                "label": check.caps.label,
                "family": family,
                "preview": previews.build(
                    slug=access.workspace.slug,
                    family=family,
                    caps=check.caps,
                    text=check.text,
                    link=check.link,
                    thread=check.thread,
                    first_comment=check.first_comment,
                    media=check.media,
                    assets=assets,
                ),
                "length": text_length(check.text, check.caps),
                "limit": check.caps.text.max_length,
                "unit": counting_word(check.caps),
                "problems": check.problems,
                "notes": check.media_notes,
                "slot": slots.get(check.channel.pk),
            }
        )
    return render(request, "publishing/_check.html", {"rows": rows, "slug": access.workspace.slug})


def _queue_preview(request: HttpRequest, channels: Iterable[Channel]) -> dict[int, dict[str, Any]]:
    """The posting time each channel would get from "add to queue" (nothing is reserved)."""
    raw_post = request.POST.get("post_id", "")
    exclude = int(raw_post) if raw_post.isdigit() else None
    out: dict[int, dict[str, Any]] = {}
    for channel in channels:
        try:
            pick = queue.next_free_slots([channel], exclude_post_id=exclude)[0]
        except ActionError as exc:
            out[channel.pk] = {"error": exc.message, "fields": list(exc.fields.values())}
        else:
            out[channel.pk] = {"at": pick.due_at, "zone": pick.time_zone}
    return out


PICKER_SIZE = 48


@workspace_view(Perm.CREATE_CONTENT)
@require_GET
def media_picker(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """The composer's media picker: the library's files with search, folder and tag filters."""
    filters = {
        "q": request.GET.get("q", "")[:200],
        "folder": request.GET.get("folder", "")[:200],
        "tag": request.GET.get("tag", "")[:100],
    }
    assets = list(media_queries.library(access, **filters)[: PICKER_SIZE + 1])
    return render(
        request,
        "publishing/_media_picker.html",
        {
            "assets": assets[:PICKER_SIZE],
            "more": len(assets) > PICKER_SIZE,
            "filters": filters,
            "folders": media_queries.folders_of(access.workspace),
            "tags": media_queries.tags_of(access.workspace),
        },
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def media_upload(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Upload from the composer: the files go to the library and are attached at once."""
    try:
        outcomes = media_actions.upload(
            Actor.from_request(request), access, request.FILES.getlist("files")
        )
    except UploadRefused as exc:
        detail = [f"{name}: {reason}" for name, reason in exc.problems]
        return JsonResponse({"error": " ".join([exc.message, *detail])}, status=422)
    except ActionError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    items = [
        {
            "id": o.asset.pk,
            "name": o.asset.original_filename,
            "kind": o.asset.kind,
            "thumb": reverse("media:thumbnail", args=[access.workspace.slug, o.asset.pk])
            if o.asset.thumbnail
            else "",
            "alt_text": o.asset.alt_text,
        }
        for o in outcomes
    ]
    return JsonResponse({"items": items})


def _with_settings(targets: Iterable[Target], time_zone: str) -> list[Target]:
    """The targets, each with ``settings``: its network settings as (name, value) for people."""
    found = list(targets)
    for target in found:
        settings: list[tuple[str, str]] = []
        if target.options:
            caps = connector_for(target.channel).account_capabilities()
            settings = post_options.described(caps, target.options, time_zone)
        target.settings = settings  # type: ignore[attr-defined]
    return found


@workspace_view(Perm.VIEW_SHARED_CONTENT)
def detail(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    try:
        post = actions.get_reviewable_post(access, request.user, post_id)
    except ActionError:
        raise Http404 from None
    team = access.can(Perm.VIEW_CONTENT)
    eligibility = approvals.eligibility(access, request.user, post)  # type: ignore[arg-type]
    members = Membership.objects.filter(workspace=access.workspace, user__is_active=True)
    targets = _with_settings(post.targets.select_related("channel"), _zone(request, access))
    return render(
        request,
        "publishing/detail.html",
        {
            "post": post,
            "team": team,
            "media_rows": _media_rows(
                access, post.media, load_assets(access.workspace.pk, asset_ids(post.media))
            ),
            "targets": targets,
            # Videos YouTube kept private (an unaudited project): warned on their row.
            "kept_private": channel_actions.kept_private(targets),
            "events": _history(post) if team else [],
            "route": approvals.route_status(post),
            "eligibility": eligibility,
            "comments": actions.comments_for(access, post),
            "mentionable": [
                m.user
                for m in members.select_related("user").order_by("user__username")
                if approvals.can_see(post, m.user, m.role, internal=False)
            ],
            "can_write": access.can(Perm.CREATE_CONTENT),
            "can_approve": eligibility.allowed,
            "editable": post.state in actions.EDITABLE_STATES,
            "series": post.series,
            "series_next": series.upcoming_times(post.series) if post.series else [],
            "time_zone": _zone(request, access),
        },
    )


def _history(post: Post) -> list[Any]:
    states = dict(TargetState.choices) | dict(PostState.choices)
    events = list(post.events.select_related("actor", "target__channel"))
    for event in events:
        event.label = EVENT_LABELS.get(event.kind, event.kind)  # type: ignore[attr-defined]
        event.to_label = states.get(event.to_state, event.to_state)  # type: ignore[attr-defined]
    return events


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
def request_changes(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Sent back to the author with your comment."),
        lambda: actions.request_changes(actor, access, post_id, request.POST.get("comment", "")),
    )


@workspace_view(Perm.APPROVE_CONTENT)
@require_POST
def reject(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Rejected. The author has been told why."),
        lambda: actions.reject_post(actor, access, post_id, request.POST.get("comment", "")),
    )


@workspace_view(Perm.VIEW_SHARED_CONTENT)
@require_POST
def comment(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Comment added."),
        lambda: actions.add_comment(
            actor,
            access,
            post_id,
            request.POST.get("body", ""),
            internal=bool(request.POST.get("internal")),
        ),
    )


@workspace_view(Perm.VIEW_SHARED_CONTENT)
def approvals_queue(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    """Posts waiting for the viewer's decision, and (for the team) for others'."""
    waiting = (
        Post.objects.filter(workspace=access.workspace, state=PostState.AWAITING_APPROVAL)
        .select_related("author", "workspace")
        .prefetch_related("targets__channel")
        .order_by("scheduled_at", "approval_requested_at")
    )
    team = access.can(Perm.VIEW_CONTENT)
    mine, others = [], []
    for post in waiting[:500]:
        if not team and not approvals.shared_with(post, request.user):  # type: ignore[arg-type]
            continue
        step = approvals.current_step(post) or {}
        row = {
            "post": post,
            "step": approvals.step_name(step),
            "number": post.approval_step + 1,
            "of": len(post.approval_steps),
            "approvers": approvals.step_approvers(post, step),
        }
        if approvals.eligibility(access, request.user, post).allowed:  # type: ignore[arg-type]
            mine.append(row)
        elif team:
            others.append(row)
    return render(
        request,
        "publishing/approvals.html",
        {"mine": mine, "others": others, "can_manage": access.can(Perm.MANAGE_WORKSPACE)},
    )


@workspace_view(Perm.MANAGE_WORKSPACE)
def approval_settings(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    policy = approvals.policy_for(access.workspace)
    approvers = [
        m
        for m in Membership.objects.filter(workspace=access.workspace, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
        if has_perm(m.role, Perm.APPROVE_CONTENT)
    ]
    context: dict[str, Any] = {"policy": policy, "approvers": approvers}
    if request.method == "POST":
        try:
            policy_input = policy_input_from(request.POST)
            actions.update_approval_policy(Actor.from_request(request), access, policy_input)
        except ActionError as exc:
            context |= {
                "error": exc.message,
                "field_errors": exc.fields,
                "steps": _posted_steps(request.POST),
                "posted": request.POST,
            }
            return render(request, "publishing/approval_settings.html", context, status=422)
        messages.success(request, _("Approval settings saved."))
        return redirect("publishing:approval_settings", slug=access.workspace.slug)
    steps = [
        {"name": step.name, "approvers": [u.pk for u in step.approvers.all()]}
        for step in (policy.steps.prefetch_related("approvers") if policy.pk else [])
    ]
    steps += [{"name": "", "approvers": []}] * (MAX_STEPS - len(steps))
    return render(request, "publishing/approval_settings.html", context | {"steps": steps})


def _posted_steps(data: QueryDict) -> list[dict[str, Any]]:
    return [
        {
            "name": data.get(f"step_name_{i}", ""),
            "approvers": [int(v) for v in data.getlist(f"approvers_{i}") if v.isdigit()],
        }
        for i in range(MAX_STEPS)
    ]


@workspace_view(Perm.VIEW_CONTENT)
def versions(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    """Every saved version, newest first, each with what changed from the one before."""
    try:
        post = actions.get_post(access, post_id)
    except ActionError:
        raise Http404 from None
    names = dict(Channel.objects.filter(workspace=access.workspace).values_list("pk", "handle"))
    saved = list(post.versions.select_related("author").order_by("number"))
    rows = []
    previous: dict[str, Any] = {}
    for version in saved:
        rows.append(
            {
                "version": version,
                "changes": post_versions.changes(previous, version.snapshot, names),
                "current": version.number == post.version,
            }
        )
        previous = version.snapshot
    rows.reverse()
    return render(
        request,
        "publishing/versions.html",
        {
            "post": post,
            "rows": rows,
            "can_restore": access.can(Perm.CREATE_CONTENT)
            and post.state in actions.EDITABLE_STATES,
        },
    )


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def restore(
    request: HttpRequest, access: WorkspaceAccess, post_id: int, number: int
) -> HttpResponse:
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("Version %(n)d restored as a new version.") % {"n": number},
        lambda: actions.restore_version(actor, access, post_id, number),
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
def stop_series(request: HttpRequest, access: WorkspaceAccess, post_id: int) -> HttpResponse:
    try:
        post = actions.get_post(access, post_id)
    except ActionError:
        raise Http404 from None
    actor = Actor.from_request(request)
    return _act(
        request,
        access,
        post_id,
        _("The series is stopped: no more occurrences."),
        lambda: series.stop_series(actor, access, post.series_id or 0),
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


@workspace_view(Perm.CREATE_CONTENT)
@require_POST
def reschedule_target(
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
    today = _today(request, access)
    try:
        first = calendar.parse_month(request.GET.get("month", ""), today)
    except ActionError as exc:
        messages.error(request, exc.message)
        first = today.replace(day=1)
    filters = calendar.CalendarFilters.from_query(request.GET)
    anchor = today if (today.year, today.month) == (first.year, first.month) else first
    month = calendar.month_grid(_calendar_posts(access, filters), first, zone)
    # Recurring posts' occurrences not created yet show faintly, as planned.
    if not (filters.tags or filters.author) and (
        not filters.statuses or PostState.SCHEDULED in filters.statuses
    ):
        days = [day for week in month.weeks for day in week]
        tz = zoneinfo.ZoneInfo(zone)
        planned = series.planned_by_day(
            access.workspace.pk,
            datetime.combine(days[0].date, time.min, tz),
            datetime.combine(days[-1].date + timedelta(days=1), time.min, tz),
            zone,
            filters.channels,
        )
        for day in days:
            day.planned = planned.get(day.date, [])
    return render(
        request,
        "publishing/calendar.html",
        {
            "month": month,
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


def queue_context(access: WorkspaceAccess, channel: Channel) -> dict[str, Any]:
    """The channel page's "Posting times" section."""
    schedule = QueueSchedule.objects.filter(channel=channel).first()
    slots = list(schedule.slots.all()) if schedule else []
    days = [
        {"weekday": number, "name": name, "times": [s.time for s in slots if s.weekday == number]}
        for number, name in WEEKDAYS
    ]
    upcoming: list[Any] = []
    zone = access.workspace.time_zone
    if schedule is not None:
        zone = queue.zone_of(schedule)
        if slots:
            upcoming = list(
                queue.slot_times(
                    [(s.weekday, s.time) for s in slots], zone, timezone.now(), weeks=1
                )
            )[:5]
    return {
        "days": days,
        "count": len(slots),
        "zone": zone,
        "own_zone": schedule.time_zone if schedule else "",
        "workspace_zone": access.workspace.time_zone,
        "upcoming": upcoming,
        "presets": queue.PRESET_LABELS,
        "zones": sorted(zoneinfo.available_timezones()),
    }


@workspace_view(Perm.MANAGE_CHANNELS)
@require_POST
def edit_queue(request: HttpRequest, access: WorkspaceAccess, channel_id: int) -> HttpResponse:
    """One change to a channel's posting times, from the buttons on the channel's page."""
    if not Channel.objects.filter(workspace=access.workspace, pk=channel_id).exists():
        raise Http404
    actor = Actor.from_request(request)
    data = request.POST
    action = data.get("action", "")
    try:
        weekday = int(data.get("weekday", "0") or 0)
        if action == "add":
            at = queue.parse_time(data.get("time", ""))
            queue.add_slot(actor, access, channel_id, weekday, at)
        elif action == "remove":
            queue.remove_slot(
                actor, access, channel_id, weekday, queue.parse_time(data.get("time", ""))
            )
        elif action == "copy":
            queue.copy_to_all_days(actor, access, channel_id, weekday)
        elif action == "preset":
            queue.apply_preset(actor, access, channel_id, data.get("preset", ""))
        elif action == "clear":
            queue.set_slots(actor, access, channel_id, [])
        elif action == "zone":
            schedule = queue.get_schedule(access, channel_id)
            queue.set_slots(
                actor, access, channel_id, queue.current_slots(schedule), data.get("time_zone", "")
            )
        else:
            raise Http404
    except ValueError:
        messages.error(request, _("Choose a day of the week."))
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Posting times saved."))
    url = reverse("channels:detail", args=[access.workspace.slug, channel_id])
    return redirect(url + "#queue")
