from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from minbar.api import ErrorOut, Page, api_access, api_actor, principal
from minbar.core.errors import InvalidInput, NotFound
from minbar.publishing import actions, approvals, bulk, queue, series
from minbar.publishing.actions import PolicyInput, PostInput, Repeat, StepInput, Variant
from minbar.publishing.models import (
    ApprovalAppliesTo,
    ApprovalPolicy,
    Post,
    PostComment,
    PostSeries,
    PostState,
    QueueSchedule,
    Target,
)
from minbar.publishing.target_media import MediaChoice
from minbar.workspaces.actions import validate_time_zone

router = Router(tags=["publishing"])


class MediaOut(Schema):
    asset: int | None = None  # None only for files attached by path before the library
    alt_text: str = ""


class TargetOut(Schema):
    id: int
    channel_id: int
    state: str
    due_at: datetime | None
    attempts: int
    text: str
    media: list[MediaOut]
    media_overridden: bool
    last_error_kind: str
    last_error_message: str
    remote_id: str
    remote_url: str
    published_at: datetime | None
    # The network's settings for this post (see GET …/channels/{id}/post-options).
    options: dict[str, str]

    @staticmethod
    def resolve_text(obj: Target) -> str:
        return obj.effective_text

    @staticmethod
    def resolve_media(obj: Target) -> list[dict[str, object]]:
        return obj.effective_media


class SeriesOut(Schema):
    id: int
    kind: str
    every_days: int
    weekdays: list[int]
    time_zone: str
    max_occurrences: int | None
    until: date | None
    variations: list[str]
    active: bool
    approved: bool
    next_times: list[datetime]

    @staticmethod
    def resolve_approved(obj: PostSeries) -> bool:
        return obj.approved_version == obj.version

    @staticmethod
    def resolve_next_times(obj: PostSeries) -> list[datetime]:
        return series.upcoming_times(obj)


class PostOut(Schema):
    id: int
    state: str
    text: str
    link: str
    first_comment: str
    thread: list[str]
    media: list[MediaOut]
    tags: list[str]
    scheduled_at: datetime | None
    version: int
    created_at: datetime
    targets: list[TargetOut]
    occurrence: int | None
    series: SeriesOut | None

    @staticmethod
    def resolve_targets(obj: Post) -> list[Target]:
        return list(obj.targets.all())


class MediaIn(Schema):
    """A file of the workspace's media library; alt_text null: the library's alt text."""

    asset: int
    alt_text: str | None = None

    def to_choice(self) -> MediaChoice:
        return MediaChoice(self.asset, self.alt_text)


class VariantIn(Schema):
    text: str | None = None
    first_comment: str = ""
    # null: the post's shared media; a list (even empty): this channel's own.
    media: list[MediaIn] | None = None
    link: str = ""  # empty: the post's link
    thread: list[str] | None = None  # null or empty: the post's thread
    # The network's settings by key (GET …/channels/{id}/post-options lists them);
    # a date and time without an offset is read in the post's time_zone.
    options: dict[str, str] = {}


class RepeatIn(Schema):
    kind: str  # days, weekly or evergreen
    every_days: int = 1
    weekdays: list[int] = []
    count: int | None = None
    until: date | None = None
    variations: list[str] = []


class PostIn(Schema):
    text: str = ""
    link: str = ""
    first_comment: str = ""
    thread: list[str] = []
    media: list[MediaIn] = []
    channels: list[int] = []
    variants: dict[int, VariantIn] = {}
    tags: list[str] = []
    notes: str = ""
    when: str = "draft"
    scheduled_at: datetime | None = None
    # Wall-clock zone of a repeating post's later occurrences (default: the workspace's).
    time_zone: str = ""
    repeat: RepeatIn | None = None

    def _zone(self) -> str:
        if self.time_zone:
            return validate_time_zone(self.time_zone)
        # A repeating post keeps the workspace's wall-clock time across daylight saving.
        return "" if self.repeat else "UTC"

    def to_input(self) -> PostInput:
        return PostInput(
            text=self.text,
            link=self.link,
            first_comment=self.first_comment,
            thread=self.thread,
            media=[m.to_choice() for m in self.media],
            channel_ids=self.channels,
            variants={
                cid: Variant(
                    text=v.text,
                    first_comment=v.first_comment,
                    media=None if v.media is None else [m.to_choice() for m in v.media],
                    link=v.link,
                    thread=v.thread or None,
                    options=dict(v.options),
                )
                for cid, v in self.variants.items()
            },
            tags=self.tags,
            notes=self.notes,
            when=self.when,
            scheduled_at=self.scheduled_at,
            scheduled_time_zone=self._zone() if self.scheduled_at else "",
            repeat=Repeat(**self.repeat.model_dump()) if self.repeat else None,
            time_zone=self._zone() or "UTC",
        )


class SlotIO(Schema):
    weekday: int  # Monday = 0
    time: str  # HH:MM, local to the schedule's zone


class QueueOut(Schema):
    channel_id: int
    time_zone: str
    time_zone_is_workspace: bool
    slots: list[SlotIO]
    next_slots: list[datetime]


class QueueIn(Schema):
    time_zone: str = ""  # empty: the workspace's
    slots: list[SlotIO] = []


def _queue_out(schedule: QueueSchedule) -> dict[str, object]:
    slots = queue.current_slots(schedule)
    zone = queue.zone_of(schedule)
    return {
        "channel_id": schedule.channel_id,
        "time_zone": zone,
        "time_zone_is_workspace": not schedule.time_zone,
        "slots": [{"weekday": d, "time": t.strftime("%H:%M")} for d, t in slots],
        "next_slots": list(queue.slot_times(slots, zone, timezone.now(), weeks=1))[:10],
    }


class CommentIn(Schema):
    comment: str = ""


@router.get("/{slug}/posts", response=list[PostOut])
@paginate(Page)
def list_posts(request: HttpRequest, slug: str, state: str = "") -> QuerySet[Post]:
    access = api_access(request, slug)
    posts = (
        Post.objects.filter(workspace=access.workspace)
        .select_related("series")
        .prefetch_related("targets")
    )
    if not actions.can_view(access):
        return posts.none()
    return posts.filter(state=state) if state else posts


@router.post(
    "/{slug}/posts",
    response={201: PostOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Write a post; when is draft, now, or at (scheduled_at, ISO 8601 with offset)",
)
def create_post(request: HttpRequest, slug: str, payload: PostIn) -> Status:
    access = api_access(request, slug)
    return Status(201, actions.create_post(api_actor(request), access, payload.to_input()))


@router.get("/{slug}/posts/{post_id}", response={200: PostOut, 404: ErrorOut})
def get_post(request: HttpRequest, slug: str, post_id: int) -> Post:
    return actions.get_post(api_access(request, slug), post_id)


@router.put(
    "/{slug}/posts/{post_id}",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def update_post(request: HttpRequest, slug: str, post_id: int, payload: PostIn) -> Post:
    access = api_access(request, slug)
    return actions.update_post(api_actor(request), access, post_id, payload.to_input())


@router.post(
    "/{slug}/posts/{post_id}/approve",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def approve(request: HttpRequest, slug: str, post_id: int, payload: CommentIn) -> Post:
    access = api_access(request, slug)
    return actions.approve_post(api_actor(request), access, post_id, payload.comment)


@router.post(
    "/{slug}/posts/{post_id}/request-changes",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def request_changes(request: HttpRequest, slug: str, post_id: int, payload: CommentIn) -> Post:
    access = api_access(request, slug)
    return actions.request_changes(api_actor(request), access, post_id, payload.comment)


@router.post(
    "/{slug}/posts/{post_id}/reject",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Decline a post awaiting approval (a comment is required)",
)
def reject(request: HttpRequest, slug: str, post_id: int, payload: CommentIn) -> Post:
    access = api_access(request, slug)
    return actions.reject_post(api_actor(request), access, post_id, payload.comment)


class PostCommentOut(Schema):
    id: int
    author: str
    body: str
    internal: bool
    mentions: list[str]
    created_at: datetime

    @staticmethod
    def resolve_author(obj: PostComment) -> str:
        return obj.author.username if obj.author else ""

    @staticmethod
    def resolve_mentions(obj: PostComment) -> list[str]:
        return [u.username for u in obj.mentions.all()]


class PostCommentIn(Schema):
    # Defaults so the workspace is checked before the body (outsiders learn nothing).
    body: str = ""
    internal: bool = False


@router.get(
    "/{slug}/posts/{post_id}/comments",
    response={200: list[PostCommentOut], 404: ErrorOut},
)
def list_comments(request: HttpRequest, slug: str, post_id: int) -> list[PostComment]:
    access = api_access(request, slug)
    post = actions.get_reviewable_post(access, principal(request).user, post_id)
    return actions.comments_for(access, post)


@router.post(
    "/{slug}/posts/{post_id}/comments",
    response={201: PostCommentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Comment on a post; @username notifies that member",
)
def add_comment(request: HttpRequest, slug: str, post_id: int, payload: PostCommentIn) -> Status:
    access = api_access(request, slug)
    comment = actions.add_comment(
        api_actor(request), access, post_id, payload.body, internal=payload.internal
    )
    return Status(201, comment)


class ApprovalStepIO(Schema):
    name: str
    approvers: list[int] = []


class ApprovalPolicyIO(Schema):
    applies_to: str = ApprovalAppliesTo.CONTRIBUTORS
    reapprove_on_edit: bool = True
    reminder_after_hours: int = 24
    steps: list[ApprovalStepIO] = []


def _policy_out(policy: ApprovalPolicy) -> ApprovalPolicyIO:
    return ApprovalPolicyIO(
        applies_to=policy.applies_to,
        reapprove_on_edit=policy.reapprove_on_edit,
        reminder_after_hours=policy.reminder_after_hours,
        steps=[
            ApprovalStepIO(name=step.name, approvers=[u.pk for u in step.approvers.all()])
            for step in (policy.steps.prefetch_related("approvers") if policy.pk else [])
        ],
    )


@router.get("/{slug}/approval-policy", response={200: ApprovalPolicyIO, 404: ErrorOut})
def get_approval_policy(request: HttpRequest, slug: str) -> ApprovalPolicyIO:
    access = api_access(request, slug)
    return _policy_out(approvals.policy_for(access.workspace))


@router.put(
    "/{slug}/approval-policy",
    response={200: ApprovalPolicyIO, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Which posts need approval, and the steps with their named approvers",
)
def put_approval_policy(
    request: HttpRequest, slug: str, payload: ApprovalPolicyIO
) -> ApprovalPolicyIO:
    access = api_access(request, slug)
    policy = actions.update_approval_policy(
        api_actor(request),
        access,
        PolicyInput(
            applies_to=payload.applies_to,
            reapprove_on_edit=payload.reapprove_on_edit,
            reminder_after_hours=payload.reminder_after_hours,
            steps=[StepInput(name=s.name, approver_ids=s.approvers) for s in payload.steps],
        ),
    )
    return _policy_out(policy)


class WaitingOut(Schema):
    post: PostOut
    step: int
    steps: int
    step_name: str
    approvers: list[str]
    mine: bool


@router.get("/{slug}/approvals", response={200: list[WaitingOut], 404: ErrorOut})
def waiting_for_approval(
    request: HttpRequest, slug: str, mine: bool = False
) -> list[dict[str, Any]]:
    """Posts awaiting approval the caller may see; ``mine`` keeps those they may decide."""
    access = api_access(request, slug)
    user = principal(request).user
    rows = []
    posts = Post.objects.filter(
        workspace=access.workspace, state=PostState.AWAITING_APPROVAL
    ).prefetch_related("targets")
    for post in posts.order_by("scheduled_at", "id")[:500]:
        if not actions.can_view(access) and not approvals.shared_with(post, user):
            continue
        step = approvals.current_step(post) or {}
        decides = approvals.eligibility(access, user, post).allowed
        if mine and not decides:
            continue
        rows.append(
            {
                "post": post,
                "step": post.approval_step + 1,
                "steps": len(post.approval_steps),
                "step_name": approvals.step_name(step),
                "approvers": [u.username for u in approvals.step_approvers(post, step)],
                "mine": decides,
            }
        )
    return rows


@router.post(
    "/{slug}/posts/{post_id}/cancel",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def cancel(request: HttpRequest, slug: str, post_id: int) -> Post:
    access = api_access(request, slug)
    return actions.cancel_post(api_actor(request), access, post_id)


@router.post(
    "/{slug}/posts/{post_id}/targets/{target_id}/retry",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def retry(request: HttpRequest, slug: str, post_id: int, target_id: int) -> Post:
    access = api_access(request, slug)
    post = actions.get_post(access, post_id)
    if not post.targets.filter(pk=target_id).exists():
        raise NotFound(_("No such post."))
    actions.retry(api_actor(request), access, target_id)
    return post


class RescheduleIn(Schema):
    # Checked after the workspace, so outsiders learn nothing from a 422.
    at: datetime | None = None


@router.post(
    "/{slug}/posts/{post_id}/targets/{target_id}/reschedule",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Give a failed, held or unconfirmed channel a new time (at: ISO 8601 with offset)",
)
def reschedule(
    request: HttpRequest, slug: str, post_id: int, target_id: int, payload: RescheduleIn
) -> Post:
    access = api_access(request, slug)
    post = actions.get_post(access, post_id)
    if not post.targets.filter(pk=target_id).exists():
        raise NotFound(_("No such post."))
    if payload.at is None or timezone.is_naive(payload.at):
        raise InvalidInput(
            _("Give the time with its UTC offset, e.g. 2026-05-01T09:00:00+03:00."),
            fields={"at": _("Add the UTC offset.")},
        )
    actions.reschedule_target(api_actor(request), access, target_id, payload.at)
    post.refresh_from_db()
    return post


class ImportOut(Schema):
    created: int
    post_ids: list[int]


@router.post(
    "/{slug}/post-imports",
    response={201: ImportOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Import posts from a CSV file (all rows or none)",
)
def import_posts(
    request: HttpRequest,
    slug: str,
    file: UploadedFile | None = File(None),  # noqa: B008 - django-ninja's way to declare it
    time_zone: str = "UTC",
) -> Status:
    # The workspace is checked before the body, so outsiders learn nothing.
    access = api_access(request, slug)
    if file is None:
        raise InvalidInput(_("Attach the CSV file as “file”."), fields={"file": _("Required.")})
    created = bulk.import_csv(
        api_actor(request), access, file.read(), validate_time_zone(time_zone)
    )
    return Status(201, {"created": len(created), "post_ids": [p.pk for p in created]})


@router.get("/{slug}/channels/{channel_id}/queue", response={200: QueueOut, 404: ErrorOut})
def get_queue(request: HttpRequest, slug: str, channel_id: int) -> dict[str, object]:
    return _queue_out(queue.get_schedule(api_access(request, slug), channel_id))


@router.put(
    "/{slug}/channels/{channel_id}/queue",
    response={200: QueueOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Replace a channel's weekly posting times (the queue's slots)",
)
def put_queue(
    request: HttpRequest, slug: str, channel_id: int, payload: QueueIn
) -> dict[str, object]:
    access = api_access(request, slug)
    slots: list[tuple[int, time]] = [(s.weekday, queue.parse_time(s.time)) for s in payload.slots]
    schedule = queue.set_slots(api_actor(request), access, channel_id, slots, payload.time_zone)
    return _queue_out(schedule)


@router.post(
    "/{slug}/posts/{post_id}/stop-series",
    response={200: PostOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Stop a recurring post: no more occurrences; those not started are cancelled",
)
def stop_series(request: HttpRequest, slug: str, post_id: int) -> Post:
    access = api_access(request, slug)
    post = actions.get_post(access, post_id)
    if post.series_id is None:
        raise NotFound(_("This post does not repeat."))
    series.stop_series(api_actor(request), access, post.series_id)
    return actions.get_post(access, post_id)
