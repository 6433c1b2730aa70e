"""Every state change a person makes to posts: write, schedule, approve, cancel, retry.

The dispatcher (``dispatcher.py``) owns what happens after a target is
scheduled; these actions only decide *what* should go out and *when*.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minbar.audit.actions import record
from minbar.channels.actions import connector_for
from minbar.channels.models import Channel
from minbar.connectors.types import Capabilities
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from minbar.publishing import dispatcher
from minbar.publishing.models import (
    Post,
    PostEvent,
    PostState,
    PostVersion,
    Target,
    TargetState,
)
from minbar.publishing.timing import local_to_utc
from minbar.publishing.validation import problems_for
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

EDITABLE_STATES = (
    PostState.DRAFT,
    PostState.AWAITING_APPROVAL,
    PostState.APPROVED,
    PostState.SCHEDULED,
)


@dataclass
class Variant:
    """What one channel gets instead of the shared content (empty: the shared one)."""

    text: str | None = None
    first_comment: str = ""


@dataclass
class PostInput:
    text: str = ""
    link: str = ""
    first_comment: str = ""
    thread: list[str] = field(default_factory=list)
    channel_ids: list[int] = field(default_factory=list)
    variants: dict[int, Variant] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    # "draft", "now" or "at" (with scheduled_at in UTC)
    when: str = "draft"
    scheduled_at: datetime | None = None
    scheduled_time_zone: str = ""


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


def target_checks(
    post_input: PostInput,
    channels: Iterable[Channel],
    caps_of: dict[int, Capabilities] | None = None,
) -> list[TargetCheck]:
    """Each channel's text and problems, against that account's own limits.

    ``caps_of`` caches capabilities by channel id when many posts are checked.
    """
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
        problems = problems_for(
            caps, text=text, thread=post_input.thread, first_comment=first_comment
        )
        checks.append(TargetCheck(channel, caps, text, first_comment, problems))
    return checks


def check_targets(post_input: PostInput, channels: list[Channel]) -> dict[int, list[str]]:
    """Problems per channel id (only channels that have some)."""
    return {c.channel.pk: c.problems for c in target_checks(post_input, channels) if c.problems}


def _snapshot(post: Post) -> dict[str, Any]:
    return {
        "text": post.text,
        "link": post.link,
        "first_comment": post.first_comment,
        "thread": post.thread,
        "tags": post.tags,
        "notes": post.notes,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
        "targets": [
            {
                "channel": t.channel_id,
                "text": t.text if t.text_overridden else None,
                "first_comment": t.first_comment,
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


def _needs_approval(access: WorkspaceAccess) -> bool:
    return not access.can(Perm.PUBLISH_WITHOUT_APPROVAL)


def _kick_dispatcher() -> None:
    transaction.on_commit(dispatcher.kick)


def _apply_schedule(post: Post, post_input: PostInput, needs_approval: bool) -> None:
    """Set the post's and its targets' states from what the person asked for."""
    now = timezone.now()
    if post_input.when == "at":
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
        raise InvalidInput(_("Choose draft, now or a time."), fields={"when": _("Unknown.")})
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


def _write_targets(post: Post, post_input: PostInput, channels: list[Channel]) -> None:
    keep = {c.pk for c in channels}
    post.targets.exclude(channel_id__in=keep).delete()
    for channel in channels:
        variant = post_input.variants.get(channel.pk) or Variant()
        Target.objects.update_or_create(
            post=post,
            channel=channel,
            defaults={
                "text": variant.text or "",
                "text_overridden": variant.text is not None,
                "first_comment": variant.first_comment,
            },
        )


@transaction.atomic
def create_post(actor: Actor, access: WorkspaceAccess, post_input: PostInput) -> Post:
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow writing posts."))
    channels = _channels(access, post_input.channel_ids)
    if post_input.when != "draft":
        if not channels:
            raise InvalidInput(
                _("Choose at least one channel."), fields={"channels": _("Required.")}
            )
        problems = check_targets(post_input, channels)
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
        tags=post_input.tags,
        notes=post_input.notes,
    )
    _write_targets(post, post_input, channels)
    _apply_schedule(post, post_input, _needs_approval(access))
    PostVersion.objects.create(post=post, number=1, author=actor.user, snapshot=_snapshot(post))
    _event(post, actor, "created", to_state=post.state)
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
    if post_input.when != "draft":
        problems = check_targets(post_input, channels)
        if problems or not channels:
            raise InvalidInput(
                _("Some channels cannot take this post as it is."),
                fields={f"channel_{cid}": " ".join(m) for cid, m in problems.items()}
                or {"channels": _("Choose at least one channel.")},
            )
    before = post.state
    post.text, post.link = post_input.text, post_input.link
    post.first_comment, post.thread = post_input.first_comment, post_input.thread
    post.tags, post.notes = post_input.tags, post_input.notes
    post.version += 1
    post.updated_at = timezone.now()
    post.save()
    _write_targets(post, post_input, channels)
    # Editing sends a post back through approval when the editor cannot publish alone.
    _apply_schedule(post, post_input, _needs_approval(access))
    PostVersion.objects.create(
        post=post, number=post.version, author=actor.user, snapshot=_snapshot(post)
    )
    _event(post, actor, "edited", from_state=before, to_state=post.state)
    record(actor, "post.updated", workspace=access.workspace, target=post)
    if post.state == PostState.SCHEDULED:
        _kick_dispatcher()
    return post


@transaction.atomic
def approve_post(actor: Actor, access: WorkspaceAccess, post_id: int, comment: str = "") -> Post:
    post = get_post(access, post_id)
    if not access.can(Perm.APPROVE_CONTENT):
        raise NotAllowed(_("Your role does not allow approving posts."))
    if post.state != PostState.AWAITING_APPROVAL:
        raise Conflict(_("This post is not waiting for approval."))
    if (
        actor.user is not None
        and post.author_id == actor.user.pk
        and not access.can(Perm.PUBLISH_WITHOUT_APPROVAL)
    ):
        raise NotAllowed(_("You cannot approve your own post."))
    post.state = PostState.SCHEDULED
    post.save(update_fields=["state"])
    post.targets.filter(state=TargetState.AWAITING_APPROVAL).update(
        state=TargetState.SCHEDULED,
        due_at=post.scheduled_at or timezone.now(),
        updated_at=timezone.now(),
    )
    _event(
        post,
        actor,
        "approved",
        comment,
        from_state=PostState.AWAITING_APPROVAL,
        to_state=PostState.SCHEDULED,
    )
    record(actor, "post.approved", workspace=access.workspace, target=post)
    _kick_dispatcher()
    return post


@transaction.atomic
def reject_post(actor: Actor, access: WorkspaceAccess, post_id: int, comment: str) -> Post:
    post = get_post(access, post_id)
    if not access.can(Perm.APPROVE_CONTENT):
        raise NotAllowed(_("Your role does not allow approving posts."))
    if post.state != PostState.AWAITING_APPROVAL:
        raise Conflict(_("This post is not waiting for approval."))
    if not comment.strip():
        raise InvalidInput(
            _("Say what should change, so the author can fix it."),
            fields={"comment": _("Required.")},
        )
    post.state = PostState.DRAFT
    post.save(update_fields=["state"])
    post.targets.update(state=TargetState.DRAFT, updated_at=timezone.now())
    _event(
        post,
        actor,
        "changes_requested",
        comment.strip(),
        from_state=PostState.AWAITING_APPROVAL,
        to_state=PostState.DRAFT,
    )
    record(actor, "post.changes_requested", workspace=access.workspace, target=post)
    return post


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


@transaction.atomic
def move_to_day(
    actor: Actor, access: WorkspaceAccess, post_id: int, day: date, time_zone: str
) -> Post:
    """Move a post to another day at the same local time (dragging it on the calendar)."""
    post = get_post(access, post_id)
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow this."))
    if post.scheduled_at is None:
        raise Conflict(_("This post has no time yet; open it to schedule it."))
    if (
        post.state not in EDITABLE_STATES
        or post.targets.exclude(
            state__in=(TargetState.DRAFT, TargetState.AWAITING_APPROVAL, TargetState.SCHEDULED)
        ).exists()
    ):
        raise Conflict(_("This post is already going out or out; it can no longer be moved."))
    zone = zoneinfo.ZoneInfo(time_zone)
    local = post.scheduled_at.astimezone(zone)
    moved = local_to_utc(datetime.combine(day, local.time()), time_zone)
    if moved < timezone.now():
        raise InvalidInput(_("That time has passed. Choose a day in the future."))
    before = post.scheduled_at
    post.scheduled_at = moved
    post.save(update_fields=["scheduled_at"])
    post.targets.filter(
        state__in=(TargetState.DRAFT, TargetState.AWAITING_APPROVAL, TargetState.SCHEDULED)
    ).update(due_at=moved, updated_at=timezone.now())
    _event(post, actor, "rescheduled", data_from=before.isoformat(), data_to=moved.isoformat())
    record(actor, "post.rescheduled", workspace=access.workspace, target=post)
    if post.state == PostState.SCHEDULED:
        _kick_dispatcher()
    return post
