"""Every state change a person makes to posts: write, schedule, approve, cancel, retry.

The dispatcher (``dispatcher.py``) owns what happens after a target is
scheduled; these actions only decide *what* should go out and *when*.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.actions import record
from minbar.channels.actions import connector_for
from minbar.channels.models import Channel
from minbar.connectors.types import Capabilities
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.media.models import MediaAsset
from minbar.publishing import approvals, dispatcher, post_options, queue
from minbar.publishing.models import (
    ApprovalAppliesTo,
    ApprovalPolicy,
    ApprovalStep,
    Post,
    PostComment,
    PostEvent,
    PostSeries,
    PostState,
    PostVersion,
    Target,
    TargetState,
)
from minbar.publishing.target_media import (
    MAX_ITEMS,
    MediaChoice,
    all_asset_ids,
    check_media,
    choices_from,
    load_assets,
    stored,
)
from minbar.publishing.timing import local_to_utc
from minbar.publishing.validation import problems_for
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Perm

EDITABLE_STATES = (
    PostState.DRAFT,
    PostState.CHANGES_REQUESTED,
    PostState.REJECTED,
    PostState.AWAITING_APPROVAL,
    PostState.APPROVED,
    PostState.SCHEDULED,
)


@dataclass
class Variant:
    """What one channel gets instead of the shared content (empty: the shared one)."""

    text: str | None = None
    first_comment: str = ""
    # None: the shared media; a list (even empty): this channel's own.
    media: list[MediaChoice] | None = None
    link: str = ""  # empty: the shared link
    thread: list[str] | None = None  # None or empty: the shared thread
    # The network's settings for this channel by option key (minbar.connectors.options).
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class PostInput:
    text: str = ""
    link: str = ""
    first_comment: str = ""
    thread: list[str] = field(default_factory=list)
    media: list[MediaChoice] = field(default_factory=list)
    channel_ids: list[int] = field(default_factory=list)
    variants: dict[int, Variant] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    # "draft", "now", "at" (with scheduled_at in UTC) or "queue" (each channel's next free slot)
    when: str = "draft"
    scheduled_at: datetime | None = None
    scheduled_time_zone: str = ""
    # Makes the post the first occurrence of a recurring series (see ``series.py``).
    repeat: Repeat | None = None
    # "queue" only: no slot before this (an evergreen post's next occurrence).
    queue_after: datetime | None = None
    # The person's time zone: date-and-time settings without an offset are read in it.
    time_zone: str = "UTC"


@dataclass
class Repeat:
    """How a post recurs: ``kind`` is "days", "weekly" or "evergreen" (RepeatKind)."""

    kind: str
    every_days: int = 1
    weekdays: list[int] = field(default_factory=list)
    count: int | None = None  # occurrences in all, the first included
    until: date | None = None  # last local date an occurrence may fall on
    variations: list[str] = field(default_factory=list)


def _channels(access: WorkspaceAccess, ids: Iterable[int]) -> list[Channel]:
    wanted = list(dict.fromkeys(ids))
    channels = list(Channel.objects.filter(workspace=access.workspace, pk__in=wanted))
    if len(channels) != len(wanted):
        raise InvalidInput(
            _("Choose channels of this workspace."),
            fields={"channels": _("One of the channels does not exist.")},
        )
    return sorted(channels, key=lambda c: wanted.index(c.pk))


@dataclass(frozen=True)
class TargetCheck:
    """What one channel would get, and what its rules say about it."""

    channel: Channel
    caps: Capabilities
    text: str
    first_comment: str
    problems: list[str]
    # The channel's media as stored ({"asset", "alt_text"}), and what Minbar will change.
    media: list[dict[str, Any]] = field(default_factory=list)
    media_notes: list[str] = field(default_factory=list)
    media_problems: list[str] = field(default_factory=list)  # also in ``problems``
    link: str = ""
    thread: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)  # the settings that apply, cleaned


def _media_of(choices: list[MediaChoice], assets: dict[int, MediaAsset]) -> list[dict[str, Any]]:
    # A file that is not (or no longer) in the workspace's library is kept as an id,
    # so the check names it as a problem instead of dropping it silently.
    known = [c for c in choices if c.asset in assets][:MAX_ITEMS]
    items = stored(known, assets)
    missing = [{"asset": c.asset, "alt_text": c.alt_text or ""} for c in choices if c not in known]
    return items + missing


def target_checks(
    post_input: PostInput,
    channels: Iterable[Channel],
    caps_of: dict[int, Capabilities] | None = None,
    assets: dict[int, MediaAsset] | None = None,
) -> list[TargetCheck]:
    """Each channel's text, media and problems, against that account's own limits.

    ``caps_of`` caches capabilities by channel id when many posts are checked;
    ``assets`` are the workspace's media files the input names (loaded when not given).
    """
    channels = list(channels)
    if assets is None:
        ids = all_asset_ids(
            post_input.media,
            (v.media for v in post_input.variants.values() if v.media is not None),
        )
        assets = load_assets(channels[0].workspace_id, ids) if channels and ids else {}
    shared_media = _media_of(post_input.media, assets)
    checks = []
    for channel in channels:
        caps = caps_of.get(channel.pk) if caps_of is not None else None
        if caps is None:
            caps = connector_for(channel).account_capabilities()
            if caps_of is not None:
                caps_of[channel.pk] = caps
        variant = post_input.variants.get(channel.pk)
        text = variant.text if variant and variant.text is not None else post_input.text
        first_comment = (variant.first_comment if variant else "") or post_input.first_comment
        media = (
            _media_of(variant.media, assets)
            if variant and variant.media is not None
            else shared_media
        )
        verdict = check_media(caps, media, assets)
        thread = (variant.thread if variant and variant.thread else None) or post_input.thread
        link = (variant.link if variant else "") or post_input.link
        problems = problems_for(
            caps,
            text=text,
            media_count=len(media),
            thread=thread,
            first_comment=first_comment,
        )
        raw_options = variant.options if variant else {}
        options, option_problems = post_options.checked(caps, raw_options, post_input.time_zone)
        problems += option_problems
        checks.append(
            TargetCheck(
                channel,
                caps,
                text,
                first_comment,
                problems + verdict.problems,
                media,
                verdict.notes,
                verdict.problems,
                link=link,
                thread=list(thread),
                options=options,
            )
        )
    return checks


def check_targets(
    post_input: PostInput, channels: list[Channel], assets: dict[int, MediaAsset] | None = None
) -> dict[int, list[str]]:
    """Problems per channel id (only channels that have some)."""
    return {
        c.channel.pk: c.problems
        for c in target_checks(post_input, channels, assets=assets)
        if c.problems
    }


def _assets(access: WorkspaceAccess, post_input: PostInput) -> dict[int, MediaAsset]:
    """The library files the input names; another workspace's file is "no such file"."""
    variant_media = [v.media for v in post_input.variants.values() if v.media is not None]
    assets = load_assets(access.workspace.pk, all_asset_ids(post_input.media, variant_media))
    for choices in (post_input.media, *variant_media):
        stored(choices, assets)  # raises NotFound naming the unknown id
    return assets


def _snapshot(post: Post) -> dict[str, Any]:
    return {
        "text": post.text,
        "link": post.link,
        "first_comment": post.first_comment,
        "thread": post.thread,
        "media": post.media,
        "tags": post.tags,
        "notes": post.notes,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "targets": [
            {
                "channel": t.channel_id,
                "text": t.text if t.text_overridden else None,
                "first_comment": t.first_comment,
                "media": t.media if t.media_overridden else None,
                "link": t.link,
                "thread": t.thread,
                "options": t.options,
            }
            for t in post.targets.all()
        ],
    }


def _event(post: Post, actor: Actor, kind: str, message: str = "", **data: Any) -> None:
    PostEvent.objects.create(
        post=post,
        actor=actor.user,
        kind=kind,
        message=message,
        from_state=data.pop("from_state", ""),
        to_state=data.pop("to_state", ""),
        data=data,
    )


def _needs_approval(access: WorkspaceAccess, *, approved: bool = False) -> bool:
    policy = approvals.policy_for(access.workspace)
    return approvals.needs_approval(access, policy, approved=approved)


def _kick_dispatcher() -> None:
    transaction.on_commit(dispatcher.kick)


def _apply_schedule(post: Post, post_input: PostInput, needs_approval: bool) -> None:
    """Set the post's and its targets' states from what the person asked for."""
    now = timezone.now()
    due_per_channel: dict[int, datetime] = {}
    if post_input.when == "queue":
        targets = list(post.targets.select_related("channel__workspace"))
        if not targets:
            raise InvalidInput(
                _("Choose at least one channel."), fields={"channels": _("Required.")}
            )
        picks = queue.next_free_slots(
            [t.channel for t in targets],
            exclude_post_id=post.pk,
            after=post_input.queue_after,
            lock=True,
        )
        due_per_channel = {p.channel.pk: p.due_at for p in picks}
        first = min(picks, key=lambda p: p.due_at)
        post.scheduled_at, post.scheduled_time_zone = first.due_at, first.time_zone
    elif post_input.when == "at":
        if post_input.scheduled_at is None:
            raise InvalidInput(
                _("Choose when to publish."), fields={"scheduled_at": _("Required.")}
            )
        if post_input.scheduled_at < now:
            raise InvalidInput(
                _("That time has passed. Choose a time in the future."),
                fields={"scheduled_at": _("In the past.")},
            )
        post.scheduled_at = post_input.scheduled_at
        post.scheduled_time_zone = post_input.scheduled_time_zone
    elif post_input.when == "now":
        post.scheduled_at = now
    elif post_input.when == "draft":
        post.scheduled_at = post_input.scheduled_at
    else:
        raise InvalidInput(
            _("Choose draft, now, a time or the queue."), fields={"when": _("Unknown.")}
        )
    if post_input.when == "draft":
        post.state, target_state = PostState.DRAFT, TargetState.DRAFT
    elif needs_approval:
        post.state, target_state = PostState.AWAITING_APPROVAL, TargetState.AWAITING_APPROVAL
    else:
        post.state, target_state = PostState.SCHEDULED, TargetState.SCHEDULED
    post.save()
    post.targets.update(
        state=target_state, due_at=post.scheduled_at, next_attempt_at=None, updated_at=now
    )
    # Queued targets each take their own channel's slot; the post shows the earliest.
    for channel_id, due_at in due_per_channel.items():
        post.targets.filter(channel_id=channel_id).update(due_at=due_at)


def _write_targets(
    post: Post, post_input: PostInput, channels: list[Channel], assets: dict[int, MediaAsset]
) -> None:
    keep = {c.pk for c in channels}
    post.targets.exclude(channel_id__in=keep).delete()
    for channel in channels:
        variant = post_input.variants.get(channel.pk) or Variant()
        options: dict[str, str] = {}
        if variant.options:
            caps = connector_for(channel).account_capabilities()
            options = post_options.values_for(caps, variant.options, post_input.time_zone)
        Target.objects.update_or_create(
            post=post,
            channel=channel,
            defaults={
                "text": variant.text or "",
                "text_overridden": variant.text is not None,
                "first_comment": variant.first_comment,
                "media": stored(variant.media, assets) if variant.media is not None else [],
                "media_overridden": variant.media is not None,
                "link": variant.link,
                "thread": list(variant.thread or []),
                "options": options,
            },
        )


@transaction.atomic
def create_post(actor: Actor, access: WorkspaceAccess, post_input: PostInput) -> Post:
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow writing posts."))
    if post_input.repeat is not None:
        from minbar.publishing import series  # the series module builds on this one

        return series.start_series(actor, access, post_input)
    return write_post(actor, access, post_input, needs_approval=_needs_approval(access))


def write_post(
    actor: Actor,
    access: WorkspaceAccess,
    post_input: PostInput,
    *,
    needs_approval: bool,
    occurrence_of: PostSeries | None = None,
    occurrence: int | None = None,
) -> Post:
    """Create a post (checked and scheduled); callers hold a transaction and check the role."""
    channels = _channels(access, post_input.channel_ids)
    assets = _assets(access, post_input)
    if post_input.when != "draft":
        if not channels:
            raise InvalidInput(
                _("Choose at least one channel."), fields={"channels": _("Required.")}
            )
        problems = check_targets(post_input, channels, assets)
        if problems:
            raise InvalidInput(
                _("Some channels cannot take this post as it is."),
                fields={f"channel_{cid}": " ".join(msgs) for cid, msgs in problems.items()},
            )
    post = Post.objects.create(
        workspace=access.workspace,
        author=actor.user,
        text=post_input.text,
        link=post_input.link,
        first_comment=post_input.first_comment,
        thread=post_input.thread,
        media=stored(post_input.media, assets),
        tags=post_input.tags,
        notes=post_input.notes,
        series=occurrence_of,
        occurrence=occurrence,
        series_version=occurrence_of.version if occurrence_of else None,
    )
    _write_targets(post, post_input, channels, assets)
    _apply_schedule(post, post_input, needs_approval)
    PostVersion.objects.create(post=post, number=1, author=actor.user, snapshot=_snapshot(post))
    series_data: dict[str, Any] = (
        {"series": occurrence_of.pk, "occurrence": occurrence} if occurrence_of else {}
    )
    _event(post, actor, "created", to_state=post.state, **series_data)
    if post.state == PostState.AWAITING_APPROVAL:
        _start_approval(post, actor)
    record(
        actor,
        "post.created",
        workspace=access.workspace,
        target=post,
        data={"state": post.state, "channels": [c.pk for c in channels]},
    )
    if post.state == PostState.SCHEDULED:
        _kick_dispatcher()
    return post


def can_view(access: WorkspaceAccess) -> bool:
    return access.can(Perm.VIEW_CONTENT)


def get_post(access: WorkspaceAccess, post_id: int) -> Post:
    post = Post.objects.filter(workspace=access.workspace, pk=post_id).first()
    if post is None or not access.can(Perm.VIEW_CONTENT):
        raise NotFound(_("No such post."))
    return post


@transaction.atomic
def update_post(actor: Actor, access: WorkspaceAccess, post_id: int, post_input: PostInput) -> Post:
    post = get_post(access, post_id)
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow editing posts."))
    Post.objects.select_for_update().filter(pk=post.pk).first()
    if (
        post.state not in EDITABLE_STATES
        or post.targets.exclude(
            state__in=(TargetState.DRAFT, TargetState.AWAITING_APPROVAL, TargetState.SCHEDULED)
        ).exists()
    ):
        raise Conflict(_("This post is already going out or out; it can no longer be edited."))
    channels = _channels(access, post_input.channel_ids)
    assets = _assets(access, post_input)
    if post_input.when != "draft":
        problems = check_targets(post_input, channels, assets)
        if problems or not channels:
            raise InvalidInput(
                _("Some channels cannot take this post as it is."),
                fields={f"channel_{cid}": " ".join(m) for cid, m in problems.items()}
                or {"channels": _("Choose at least one channel.")},
            )
    before = post.state
    was_approved = before in (PostState.APPROVED, PostState.SCHEDULED)
    post.text, post.link = post_input.text, post_input.link
    post.first_comment, post.thread = post_input.first_comment, post_input.thread
    post.media = stored(post_input.media, assets)
    post.tags, post.notes = post_input.tags, post_input.notes
    post.version += 1
    post.updated_at = timezone.now()
    post.save()
    _write_targets(post, post_input, channels, assets)
    # Editing sends a post back through approval when the editor cannot publish
    # alone, or when the workspace wants every edit of an approved post approved.
    _apply_schedule(post, post_input, _needs_approval(access, approved=was_approved))
    PostVersion.objects.create(
        post=post, number=post.version, author=actor.user, snapshot=_snapshot(post)
    )
    _event(post, actor, "edited", from_state=before, to_state=post.state)
    if post.state == PostState.AWAITING_APPROVAL:
        # Any change restarts the route: earlier approvals were of other content.
        _start_approval(post, actor)
    record(actor, "post.updated", workspace=access.workspace, target=post)
    if post.series_id is not None:
        from minbar.publishing import series

        series.follow_edit(post, post_input, needs_approval=_needs_approval(access))
    if post.state == PostState.SCHEDULED:
        _kick_dispatcher()
    return post


def _start_approval(post: Post, actor: Actor) -> None:
    """Route a just-submitted post through the workspace's steps, from the first."""
    post.approval_steps = approvals.route_for(approvals.policy_for(post.workspace))
    post.approval_round += 1
    post.approval_step = 0
    post.approval_requested_at = timezone.now()
    post.approval_reminders = 0
    post.approval_urgent_sent = False
    post.save(
        update_fields=[
            "approval_steps",
            "approval_round",
            "approval_step",
            "approval_requested_at",
            "approval_reminders",
            "approval_urgent_sent",
        ]
    )
    _event(
        post,
        actor,
        "submitted",
        round=post.approval_round,
        steps=[approvals.step_name(step) for step in post.approval_steps],
    )
    _ask_current_step(post)


def _ask_current_step(post: Post, *, reminder: bool = False) -> None:
    from minbar.notifications.actions import notify

    step = approvals.current_step(post)
    if step is None:
        return
    name = approvals.step_name(step)
    excerpt = post.text[:140]
    notify(
        approvals.step_approvers(post, step),
        kind="publishing.approval_reminder" if reminder else "publishing.approval_requested",
        workspace=post.workspace,
        title=(
            (lambda: _("Reminder: a post waits for your approval (%(step)s)") % {"step": name})
            if reminder
            else (lambda: _("A post waits for your approval (%(step)s)") % {"step": name})
        ),
        body=lambda: excerpt,
        url=post_url(post),
    )


def post_url(post: Post) -> str:
    return f"/w/{post.workspace.slug}/publishing/posts/{post.pk}/"


def _tell_author(post: Post, actor: Actor, kind: str, comment: str) -> None:
    from minbar.notifications.actions import notify

    author = post.author
    if author is None or not author.is_active or (actor.user and author.pk == actor.user.pk):
        return
    who = actor.user.get_full_name() or actor.user.username if actor.user else ""
    titles = {
        "approved": lambda: _("%(name)s approved your post") % {"name": who},
        "changes_requested": lambda: _("%(name)s asked for changes to your post") % {"name": who},
        "rejected": lambda: _("%(name)s rejected your post") % {"name": who},
    }
    notify(
        [author],
        kind=f"publishing.{kind}",
        workspace=post.workspace,
        title=titles[kind],
        body=lambda: comment,
        url=post_url(post),
    )


def get_reviewable_post(access: WorkspaceAccess, user: Any, post_id: int) -> Post:
    """A post the person may see: any post for the team, shared ones for clients."""
    post = (
        Post.objects.filter(workspace=access.workspace, pk=post_id)
        .select_related("workspace", "author")
        .first()
    )
    if post is None:
        raise NotFound(_("No such post."))
    if access.can(Perm.VIEW_CONTENT):
        return post
    if access.can(Perm.VIEW_SHARED_CONTENT) and approvals.shared_with(post, user):
        return post
    raise NotFound(_("No such post."))


def _decide(
    actor: Actor, access: WorkspaceAccess, post_id: int, kind: str, comment: str
) -> tuple[Post, approvals.Eligibility]:
    post = get_reviewable_post(access, actor.user, post_id)
    Post.objects.select_for_update().filter(pk=post.pk).first()
    post.refresh_from_db()
    if not access.can(Perm.APPROVE_CONTENT):
        raise NotAllowed(_("Your role does not allow approving posts."))
    if post.state != PostState.AWAITING_APPROVAL:
        raise Conflict(_("This post is not waiting for approval."))
    allowed = approvals.eligibility(access, actor.user, post)
    if not allowed.allowed:
        raise NotAllowed(allowed.reason)
    if kind != "approved" and not comment.strip():
        raise InvalidInput(
            _("Say what should change, so the author can fix it."),
            fields={"comment": _("Required.")},
        )
    return post, allowed


def _decision_event(
    post: Post, actor: Actor, kind: str, comment: str, to_state: str, override: bool
) -> None:
    step = approvals.current_step(post) or {}
    _event(
        post,
        actor,
        kind,
        comment.strip(),
        from_state=PostState.AWAITING_APPROVAL,
        to_state=to_state,
        round=post.approval_round,
        step=post.approval_step,
        step_name=approvals.step_name(step),
        version=post.version,
        override=override,
    )
    if comment.strip():
        _notify_mentions(post, actor, comment, internal=False)


@transaction.atomic
def approve_post(actor: Actor, access: WorkspaceAccess, post_id: int, comment: str = "") -> Post:
    """Approve the post's current step; the last step schedules it."""
    post, allowed = _decide(actor, access, post_id, "approved", comment)
    last = post.approval_step >= len(post.approval_steps) - 1
    to_state = PostState.SCHEDULED if last else PostState.AWAITING_APPROVAL
    _decision_event(post, actor, "approved", comment, to_state, allowed.override)
    record(
        actor,
        "post.approved",
        workspace=access.workspace,
        target=post,
        data={"step": post.approval_step, "override": allowed.override},
    )
    if not last:
        post.approval_step += 1
        post.approval_requested_at = timezone.now()
        post.approval_reminders = 0
        post.approval_urgent_sent = False
        post.save(
            update_fields=[
                "approval_step",
                "approval_requested_at",
                "approval_reminders",
                "approval_urgent_sent",
            ]
        )
        _ask_current_step(post)
        return post
    post.state = PostState.SCHEDULED
    post.save(update_fields=["state"])
    post.targets.filter(state=TargetState.AWAITING_APPROVAL).update(
        state=TargetState.SCHEDULED,
        # Queued targets keep their own slot's time.
        due_at=Coalesce(F("due_at"), Value(post.scheduled_at or timezone.now())),
        updated_at=timezone.now(),
    )
    if post.series_id is not None:
        from minbar.publishing import series

        series.after_approval(actor, post)
    _tell_author(post, actor, "approved", comment.strip())
    _kick_dispatcher()
    return post


def _send_back(
    actor: Actor, access: WorkspaceAccess, post_id: int, kind: str, state: str, comment: str
) -> Post:
    post, allowed = _decide(actor, access, post_id, kind, comment)
    _decision_event(post, actor, kind, comment, state, allowed.override)
    post.state = state
    post.save(update_fields=["state"])
    post.targets.exclude(state=TargetState.CANCELLED).update(
        state=TargetState.DRAFT, updated_at=timezone.now()
    )
    record(actor, f"post.{kind}", workspace=access.workspace, target=post)
    _tell_author(post, actor, kind, comment.strip())
    return post


@transaction.atomic
def request_changes(actor: Actor, access: WorkspaceAccess, post_id: int, comment: str) -> Post:
    """Send the post back to its author with what should change."""
    return _send_back(
        actor, access, post_id, "changes_requested", PostState.CHANGES_REQUESTED, comment
    )


@transaction.atomic
def reject_post(actor: Actor, access: WorkspaceAccess, post_id: int, comment: str) -> Post:
    """Decline the post: it stays out of the plan unless someone edits and resubmits it."""
    return _send_back(actor, access, post_id, "rejected", PostState.REJECTED, comment)


@transaction.atomic
def cancel_post(actor: Actor, access: WorkspaceAccess, post_id: int) -> Post:
    post = get_post(access, post_id)
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    cancellable = (
        TargetState.DRAFT,
        TargetState.AWAITING_APPROVAL,
        TargetState.SCHEDULED,
        TargetState.HELD,
        TargetState.FAILED,
    )
    # A target being published right now is left to finish; it cannot be called back.
    changed = post.targets.filter(state__in=cancellable).update(
        state=TargetState.CANCELLED, updated_at=timezone.now()
    )
    if not changed:
        raise Conflict(_("Nothing left to cancel: every channel already has this post."))
    before = post.state
    if not post.targets.exclude(state=TargetState.CANCELLED).exists():
        post.state = PostState.CANCELLED
        post.save(update_fields=["state"])
    _event(post, actor, "cancelled", from_state=before, to_state=post.state)
    record(actor, "post.cancelled", workspace=access.workspace, target=post)
    return post


def retry(actor: Actor, access: WorkspaceAccess, target_id: int) -> Target:
    """One click on a failed, held or unconfirmed channel: try it again now."""
    target = Target.objects.filter(post__workspace=access.workspace, pk=target_id).first()
    if target is None:
        raise NotFound(_("No such post."))
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    dispatcher.retry_target(target)
    _event(target.post, actor, "retried", target=target)
    record(actor, "post.retried", workspace=access.workspace, target=target.post)
    return target


def reschedule_target(
    actor: Actor, access: WorkspaceAccess, target_id: int, at: datetime, time_zone: str = "UTC"
) -> Target:
    """Give a failed, held or unconfirmed channel a new time (``at`` naive = in ``time_zone``).

    Like "try again now", for an unconfirmed target this is the person's decision
    that the post is not on the network. Attempts start again from zero.
    """
    target = Target.objects.filter(post__workspace=access.workspace, pk=target_id).first()
    if target is None:
        raise NotFound(_("No such post."))
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    moment = at if timezone.is_aware(at) else local_to_utc(at, time_zone)
    if moment <= timezone.now():
        message = _("That time has passed. Choose a time in the future.")
        raise InvalidInput(message, fields={"at": message})
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    moved = dispatcher._transition(
        target.pk,
        post_id=target.post_id,
        from_states=dispatcher.RETRYABLE_STATES,
        to_state=TargetState.SCHEDULED,
        kind="target.rescheduled",
        message=_("Given a new time by a person: %(time)s.")
        % {"time": f"{local:%Y-%m-%d %H:%M} {local.tzname()}"},
        changes={
            "due_at": moment,
            "next_attempt_at": None,
            "attempts": 0,
            "claimed_by": "",
            **dispatcher._error_fields("", ""),
        },
        data={"due_at": moment.isoformat()},
        actor=actor.user,
    )
    if not moved:
        raise Conflict(_("Only a failed, held or unconfirmed post can be given a new time."))
    record(
        actor,
        "post.target_rescheduled",
        workspace=access.workspace,
        target=target.post,
        data={"target": target.pk, "due_at": moment.isoformat()},
    )
    dispatcher.kick()
    target.refresh_from_db()
    return target


def variants_from(data: Mapping[str, Any], channel_ids: list[int]) -> dict[int, Variant]:
    """Per-channel overrides from a form: ``text_<id>`` (used when ``override_<id>``)."""
    variants: dict[int, Variant] = {}
    for cid in channel_ids:
        if data.get(f"override_{cid}"):
            variants[cid] = Variant(
                text=str(data.get(f"text_{cid}", "")),
                first_comment=str(data.get(f"first_comment_{cid}", "")),
            )
    return variants


_MOVABLE_TARGET_STATES = (TargetState.DRAFT, TargetState.AWAITING_APPROVAL, TargetState.SCHEDULED)


def _movable_post(access: WorkspaceAccess, post_id: int) -> Post:
    """The post, locked, if this person may move it on the calendar; the rules every move shares."""
    post = get_post(access, post_id)
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    # Lock the row so two people dragging the same post at once apply one after the other.
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.scheduled_at is None:
        raise Conflict(_("This post has no time yet; open it to schedule it."))
    if (
        post.state not in EDITABLE_STATES
        or post.targets.exclude(state__in=_MOVABLE_TARGET_STATES).exists()
    ):
        raise Conflict(_("This post is already going out or out; it can no longer be moved."))
    return post


def _reschedule(
    actor: Actor,
    access: WorkspaceAccess,
    post: Post,
    moved: datetime,
    time_zone: str,
    past_message: str,
) -> Post:
    if moved < timezone.now():
        raise InvalidInput(past_message, fields={"scheduled_at": _("In the past.")})
    before = post.scheduled_at
    assert before is not None
    post.scheduled_at = moved
    # The wall-clock time was chosen in this zone now, whatever zone it was first written in.
    post.scheduled_time_zone = time_zone
    post.updated_at = timezone.now()
    post.save(update_fields=["scheduled_at", "scheduled_time_zone", "updated_at"])
    post.targets.filter(state__in=_MOVABLE_TARGET_STATES).update(
        due_at=moved, updated_at=timezone.now()
    )
    _event(post, actor, "rescheduled", data_from=before.isoformat(), data_to=moved.isoformat())
    record(
        actor,
        "post.rescheduled",
        workspace=access.workspace,
        target=post,
        data={"from": before.isoformat(), "to": moved.isoformat()},
    )
    if post.state == PostState.SCHEDULED:
        _kick_dispatcher()
    return post


@transaction.atomic
def move_to_day(
    actor: Actor, access: WorkspaceAccess, post_id: int, day: date, time_zone: str
) -> Post:
    """Move a post to another day at the same local time (dragging it on the month calendar)."""
    post = _movable_post(access, post_id)
    assert post.scheduled_at is not None
    local = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(time_zone))
    moved = local_to_utc(datetime.combine(day, local.time()), time_zone)
    return _reschedule(
        actor,
        access,
        post,
        moved,
        time_zone,
        _("That time has passed. Choose a day in the future."),
    )


@transaction.atomic
def move_to(
    actor: Actor, access: WorkspaceAccess, post_id: int, day: date, hour: int, time_zone: str
) -> Post:
    """Move a post to another local day and hour, keeping its minutes (the week calendar)."""
    if not 0 <= hour <= 23:
        raise InvalidInput(
            _("Drop the post on an hour of the day."), fields={"hour": _("0 to 23.")}
        )
    post = _movable_post(access, post_id)
    assert post.scheduled_at is not None
    local = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(time_zone))
    wanted = datetime.combine(day, time(hour, local.minute))
    moved = local_to_utc(wanted, time_zone)
    return _reschedule(
        actor,
        access,
        post,
        moved,
        time_zone,
        _("That time has passed. Choose a time in the future."),
    )


@transaction.atomic
def reschedule_to(
    actor: Actor, access: WorkspaceAccess, post_id: int, local: datetime, time_zone: str
) -> Post:
    """Move a post to a local date and time typed in (the keyboard alternative to dragging)."""
    post = _movable_post(access, post_id)
    moved = local_to_utc(local.replace(second=0, microsecond=0), time_zone)
    return _reschedule(
        actor,
        access,
        post,
        moved,
        time_zone,
        _("That time has passed. Choose a time in the future."),
    )


# -- review conversation -----------------------------------------------------------------


def _notify_mentions(post: Post, actor: Actor, text: str, *, internal: bool) -> list[Any]:
    """Tell each member named as @username who may read the text; returns them."""
    from minbar.notifications.actions import notify

    roles = dict(
        Membership.objects.filter(workspace_id=post.workspace_id).values_list("user_id", "role")
    )
    people = [
        user
        for user in approvals.mentioned_members(post.workspace_id, text)
        if (actor.user is None or user.pk != actor.user.pk)
        and approvals.can_see(post, user, roles.get(user.pk, ""), internal=internal)
    ]
    who = (actor.user.get_full_name() or actor.user.username) if actor.user else ""
    notify(
        people,
        kind="publishing.mention",
        workspace=post.workspace,
        title=lambda: _("%(name)s mentioned you on a post") % {"name": who},
        body=lambda: text[:500],
        url=post_url(post),
    )
    return people


@transaction.atomic
def add_comment(
    actor: Actor, access: WorkspaceAccess, post_id: int, body: str, *, internal: bool = False
) -> PostComment:
    """A comment on a post; clients may comment on what is shared with them (never internal)."""
    post = get_reviewable_post(access, actor.user, post_id)
    body = body.strip()
    if not body:
        raise InvalidInput(_("Write a comment first."), fields={"body": _("Required.")})
    if len(body) > 5000:
        raise InvalidInput(
            _("A comment can be at most 5,000 characters."), fields={"body": _("Too long.")}
        )
    if not access.can(Perm.VIEW_CONTENT):
        internal = False
    comment = PostComment.objects.create(post=post, author=actor.user, body=body, internal=internal)
    comment.mentions.set(_notify_mentions(post, actor, body, internal=internal))
    record(actor, "post.commented", workspace=access.workspace, target=post)
    return comment


def comments_for(access: WorkspaceAccess, post: Post) -> list[PostComment]:
    comments = post.comments.select_related("author")
    if not access.can(Perm.VIEW_CONTENT):
        comments = comments.filter(internal=False)
    return list(comments)


# -- the workspace's approval route ------------------------------------------------------


@dataclass
class StepInput:
    name: str
    approver_ids: list[int] = field(default_factory=list)


@dataclass
class PolicyInput:
    applies_to: str = ApprovalAppliesTo.CONTRIBUTORS
    reapprove_on_edit: bool = True
    reminder_after_hours: int = 24
    steps: list[StepInput] = field(default_factory=list)


@transaction.atomic
def update_approval_policy(
    actor: Actor, access: WorkspaceAccess, policy_input: PolicyInput
) -> ApprovalPolicy:
    """Who needs approval and through which steps; posts already submitted keep their route."""
    if not access.can(Perm.MANAGE_WORKSPACE):
        raise NotAllowed(_("Only owners and admins can change how posts are approved."))
    fields: dict[str, str] = {}
    if policy_input.applies_to not in ApprovalAppliesTo.values:
        fields["applies_to"] = _("Choose contributors' posts or every post.")
    if not 0 <= policy_input.reminder_after_hours <= 24 * 14:
        fields["reminder_after_hours"] = _("Between 0 (never) and 336 hours (two weeks).")
    if len(policy_input.steps) > 5:
        fields["steps"] = _("At most five steps.")
    members = dict(
        Membership.objects.filter(workspace=access.workspace).values_list("user_id", "role")
    )
    for number, step in enumerate(policy_input.steps, start=1):
        if not step.name.strip():
            fields[f"step_{number}_name"] = _("Give step %(n)d a name.") % {"n": number}
        elif len(step.name.strip()) > 100:
            fields[f"step_{number}_name"] = _("At most 100 characters.")
        for user_id in step.approver_ids:
            role = members.get(user_id)
            if role is None or Perm.APPROVE_CONTENT not in _role_perms(role):
                fields[f"step_{number}_approvers"] = _(
                    "Approvers must be members who may approve (owners, admins, editors, clients)."
                )
    if fields:
        raise InvalidInput(_("The approval settings need a fix."), fields=fields)
    policy, _created = ApprovalPolicy.objects.get_or_create(workspace=access.workspace)
    policy.applies_to = policy_input.applies_to
    policy.reapprove_on_edit = policy_input.reapprove_on_edit
    policy.reminder_after_hours = policy_input.reminder_after_hours
    policy.updated_by = actor.user
    policy.updated_at = timezone.now()
    policy.save()
    policy.steps.all().delete()
    for position, step in enumerate(policy_input.steps):
        row = ApprovalStep.objects.create(policy=policy, position=position, name=step.name.strip())
        row.approvers.set(list(dict.fromkeys(step.approver_ids)))
    record(
        actor,
        "approvals.updated",
        workspace=access.workspace,
        data={
            "applies_to": policy.applies_to,
            "steps": [s.name.strip() for s in policy_input.steps],
            "reapprove_on_edit": policy.reapprove_on_edit,
        },
    )
    return policy


def _role_perms(role: str) -> frozenset[Perm]:
    from minbar.workspaces.roles import ROLE_PERMISSIONS

    return ROLE_PERMISSIONS.get(role, frozenset())


# -- reminders ---------------------------------------------------------------------------

# A post due this soon that still waits gets one urgent reminder.
URGENT_BEFORE = timedelta(hours=2)


def send_approval_reminders(moment: datetime | None = None, limit: int = 200) -> int:
    """Remind the current step's approvers of posts left waiting; returns how many were sent.

    Each reminder is claimed with a conditional update, so several workers running
    this at once send it once.
    """
    moment = moment or timezone.now()
    sent = 0
    waiting = (
        Post.objects.filter(state=PostState.AWAITING_APPROVAL, approval_requested_at__isnull=False)
        .select_related("workspace", "workspace__approval_policy")
        .order_by("approval_requested_at")[:limit]
    )
    for post in waiting:
        policy = getattr(post.workspace, "approval_policy", None)
        hours = policy.reminder_after_hours if policy is not None else 24
        assert post.approval_requested_at is not None
        urgent = (
            not post.approval_urgent_sent
            and post.scheduled_at is not None
            and post.scheduled_at - URGENT_BEFORE <= moment
        )
        periodic = (
            hours > 0
            and post.approval_reminders < approvals.MAX_REMINDERS
            and post.approval_requested_at + timedelta(hours=hours * (post.approval_reminders + 1))
            <= moment
        )
        if not (urgent or periodic):
            continue
        claim = Post.objects.filter(
            pk=post.pk,
            state=PostState.AWAITING_APPROVAL,
            approval_step=post.approval_step,
            approval_reminders=post.approval_reminders,
            approval_urgent_sent=post.approval_urgent_sent,
        )
        changes: dict[str, Any] = {}
        if urgent:
            changes["approval_urgent_sent"] = True
        if periodic:
            changes["approval_reminders"] = post.approval_reminders + 1
        if not claim.update(**changes):
            continue
        with transaction.atomic():
            _ask_current_step(post, reminder=True)
        sent += 1
    return sent


# -- version history ---------------------------------------------------------------------


@transaction.atomic
def restore_version(actor: Actor, access: WorkspaceAccess, post_id: int, number: int) -> Post:
    """Bring back an earlier version's content as a new version; the schedule stays.

    Channels removed since are left out. A restored post goes through the same
    checks and approval as any edit.
    """
    post = get_post(access, post_id)
    version = post.versions.filter(number=number).first()
    if version is None:
        raise NotFound(_("No such version."))
    snap = version.snapshot
    existing = set(Channel.objects.filter(workspace=access.workspace).values_list("pk", flat=True))
    targets = [t for t in snap.get("targets", []) if t.get("channel") in existing]
    keeps_time = (
        post.state in (PostState.SCHEDULED, PostState.AWAITING_APPROVAL, PostState.APPROVED)
        and post.scheduled_at is not None
        and post.scheduled_at > timezone.now()
        and targets
    )
    post_input = PostInput(
        text=snap.get("text", ""),
        link=snap.get("link", ""),
        first_comment=snap.get("first_comment", ""),
        thread=list(snap.get("thread", [])),
        media=choices_from(snap.get("media") or []),
        tags=list(snap.get("tags", [])),
        notes=snap.get("notes", ""),
        channel_ids=[t["channel"] for t in targets],
        variants={
            t["channel"]: Variant(
                text=t.get("text"),
                first_comment=t.get("first_comment", ""),
                media=None if t.get("media") is None else choices_from(t["media"]),
                link=t.get("link", ""),
                thread=list(t.get("thread") or []) or None,
                options=dict(t.get("options") or {}),
            )
            for t in targets
            if t.get("text") is not None
            or t.get("first_comment")
            or t.get("media") is not None
            or t.get("link")
            or t.get("thread")
            or t.get("options")
        },
        when="at" if keeps_time else "draft",
        scheduled_at=post.scheduled_at,
        scheduled_time_zone=post.scheduled_time_zone,
    )
    post = update_post(actor, access, post.pk, post_input)
    _event(post, actor, "restored", restored_version=number, version=post.version)
    record(
        actor, "post.restored", workspace=access.workspace, target=post, data={"version": number}
    )
    return post
