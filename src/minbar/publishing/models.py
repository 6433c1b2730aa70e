"""Posts and their targets: the rows the dispatcher claims, publishes and never loses.

A :class:`Post` is what a person writes once; a :class:`Target` is that post on
one channel (with optional per-channel overrides). The database is the source
of truth for every target's state; the queue only wakes workers up.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.core.crypto import EncryptedTextField


class PostState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    # An approver sent it back to its author with a comment; editable, not going out.
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    # An approver declined it; it stays out of the plan until someone edits and resubmits it.
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")  # approved, not (yet) scheduled
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    PARTLY_PUBLISHED = "partly_published", _("Partly published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class TargetState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    # The network may or may not have it: reconciled with the connector's lookup,
    # never re-sent blindly.
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    # Due too long ago (after downtime) or over a posting limit: waits for a person.
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


# States in which the dispatcher still owes the target something.
ACTIVE_TARGET_STATES = (TargetState.SCHEDULED, TargetState.PUBLISHING, TargetState.UNCONFIRMED)
FINAL_TARGET_STATES = (TargetState.PUBLISHED, TargetState.CANCELLED)


class Post(models.Model):
    """Content written once for many channels."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="posts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True, default="")
    link = models.URLField(_("link"), max_length=1000, blank=True, default="")
    first_comment = models.TextField(_("first comment"), blank=True, default="")
    # Further posts chained under the first one, in order (threads).
    thread = models.JSONField(default=list, blank=True)
    # Media: [{"asset": <media asset id>, "alt_text": "..."}], filled by the media library.
    media = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(_("internal notes"), blank=True, default="")
    state = models.CharField(
        max_length=24, choices=PostState.choices, default=PostState.DRAFT, db_index=True
    )
    # When the post should go out (UTC); null for drafts and "publish now".
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The zone the time was entered in, so it is shown back the way it was meant.
    scheduled_time_zone = models.CharField(max_length=64, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    # The approval route fixed when the post was submitted (publishing.approvals):
    # [{"name": ..., "approvers": [user ids]}]; a later change to the workspace's
    # steps does not reroute a post already on its way.
    approval_steps = models.JSONField(default=list, blank=True)
    approval_round = models.PositiveIntegerField(default=0)
    approval_step = models.PositiveSmallIntegerField(default=0)
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approval_reminders = models.PositiveSmallIntegerField(default=0)
    approval_urgent_sent = models.BooleanField(default=False)

    # A recurring post's occurrences are real posts linked to their series, numbered from 1.
    series = models.ForeignKey(
        "publishing.PostSeries",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occurrences",
    )
    occurrence = models.PositiveIntegerField(null=True, blank=True)
    # The series' version this occurrence was made from (approving it approves that version).
    series_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "state", "scheduled_at"])]
        constraints = [
            # The claim that makes creating occurrences safe with several workers.
            models.UniqueConstraint(
                fields=["series", "occurrence"],
                condition=models.Q(series__isnull=False),
                name="one_post_per_occurrence",
            )
        ]

    def __str__(self) -> str:
        return (self.text[:60] or f"post {self.pk}").replace("\n", " ")


class Target(models.Model):
    """One post on one channel: the unit the dispatcher claims and publishes exactly once."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="targets"
    )
    # Per-channel overrides; empty means "use the post's".
    text = models.TextField(blank=True, default="")
    text_overridden = models.BooleanField(default=False)
    link = models.URLField(max_length=1000, blank=True, default="")
    first_comment = models.TextField(blank=True, default="")
    thread = models.JSONField(default=list, blank=True)
    media = models.JSONField(default=list, blank=True)
    media_overridden = models.BooleanField(default=False)
    # The network's own settings for this post (minbar.publishing.post_options), by key.
    options = models.JSONField(default=dict, blank=True)

    state = models.CharField(
        max_length=24, choices=TargetState.choices, default=TargetState.DRAFT, db_index=True
    )
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Sent to the network so a retried or reconciled publish finds the same post.
    idempotency_key = models.CharField(max_length=64, unique=True, default=uuid.uuid4)
    # Calls to the network's publish endpoint since the target was (re)scheduled; a
    # rate-limit answer is not counted (see docs/publishing.md).
    attempts = models.PositiveIntegerField(default=0)
    # scheduled: not before this (backoff, a posting limit's window);
    # unconfirmed: when to look the post up again; NULL on an unconfirmed target
    # means the lookup cannot settle it and a person has to.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    # When the last attempt started; kept after it ends, because posting limits
    # count the targets sent within their window by this time.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Posts this target makes on the network (the post and its thread parts),
    # set when it is claimed: what it counts against the network's posting limits.
    limit_units = models.PositiveSmallIntegerField(default=1)
    last_error_kind = models.CharField(max_length=24, blank=True, default="")
    last_error_message = models.TextField(blank=True, default="")
    last_error_detail = models.TextField(blank=True, default="")
    remote_id = models.CharField(max_length=300, blank=True, default="")
    remote_url = models.URLField(max_length=1000, blank=True, default="")
    thread_remote_ids = models.JSONField(default=list, blank=True)
    first_comment_remote_id = models.CharField(max_length=300, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "channel__network", "channel__handle"]
        constraints = [
            models.UniqueConstraint(fields=["post", "channel"], name="one_target_per_channel")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            # Posting limits count a channel's recent sends (publishing.limits).
            models.Index(fields=["channel", "claimed_at"], name="target_channel_claimed"),
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} → channel {self.channel_id} ({self.state})"

    @property
    def effective_text(self) -> str:
        return self.text if self.text_overridden else self.post.text

    @property
    def effective_link(self) -> str:
        return self.link or self.post.link

    @property
    def effective_first_comment(self) -> str:
        return self.first_comment or self.post.first_comment

    @property
    def effective_thread(self) -> list[str]:
        return list(self.thread or self.post.thread or [])

    @property
    def effective_media(self) -> list[dict[str, object]]:
        return list(self.media if self.media_overridden else self.post.media)


class PostEvent(models.Model):
    """The post's history: edits, decisions, state changes, attempts and their outcomes."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="events")
    target = models.ForeignKey(
        Target, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    from_state = models.CharField(max_length=24, blank=True, default="")
    to_state = models.CharField(max_length=24, blank=True, default="")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on post {self.post_id}"


class PostVersion(models.Model):
    """A snapshot of the post's content each time it is saved."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    snapshot = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} v{self.number}"


class CalendarFeed(models.Model):
    """The secret address of a workspace's iCalendar feed, for the team's calendar apps."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Kept (encrypted) so admins can copy the address again later.
    token = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar feed of {self.workspace_id}"


class ApprovalAppliesTo(models.TextChoices):
    CONTRIBUTORS = "contributors", _("Only posts by contributors")
    EVERYONE = "everyone", _("Every post")


class ApprovalPolicy(models.Model):
    """How a workspace's posts are approved: who needs it, in which steps, by whom."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="approval_policy"
    )
    applies_to = models.CharField(
        _("posts that need approval"),
        max_length=16,
        choices=ApprovalAppliesTo.choices,
        default=ApprovalAppliesTo.CONTRIBUTORS,
    )
    reapprove_on_edit = models.BooleanField(
        _("editing an approved post sends it back for approval"), default=True
    )
    # 0 turns reminders off.
    reminder_after_hours = models.PositiveSmallIntegerField(
        _("remind approvers after (hours)"), default=24
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"approval policy of {self.workspace_id}"


class ApprovalStep(models.Model):
    """One step of the route; named approvers, or any editor when none are named."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("step name"), max_length=100)
    approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class PostComment(models.Model):
    """A conversation about a post: review feedback, questions, @mentions."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    # Internal comments are for the team only; clients never see them.
    internal = models.BooleanField(default=False)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment on post {self.post_id}"


class QueueSchedule(models.Model):
    """A channel's weekly posting times: where "add to queue" puts posts."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="queue_schedule"
    )
    # Empty: the workspace's zone, whatever it is at the time.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"queue of channel {self.channel_id}"


class QueueSlot(models.Model):
    """One weekly posting time: a weekday (Monday = 0) and a local wall-clock time."""

    schedule = models.ForeignKey(QueueSchedule, on_delete=models.CASCADE, related_name="slots")
    weekday = models.PositiveSmallIntegerField()
    time = models.TimeField()

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "weekday", "time"], name="one_slot"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="slot_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.time:%H:%M}"


class RepeatKind(models.TextChoices):
    DAYS = "days", _("Every few days")
    WEEKLY = "weekly", _("Weekly on chosen days")
    EVERGREEN = "evergreen", _("Evergreen (back into the queue)")


class PostSeries(models.Model):
    """A recurring or evergreen post: the content and the rule its occurrences follow.

    Occurrences are created ahead of time by a periodic task (up to a horizon),
    each a real :class:`Post`; the content here is what the next ones get.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="post_series"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=RepeatKind.choices)
    # DAYS: every N days; EVERGREEN: at least N days between occurrences.
    every_days = models.PositiveSmallIntegerField(default=1)
    weekdays = models.JSONField(default=list, blank=True)  # WEEKLY: Monday = 0
    # The first occurrence's time; later ones keep its wall-clock time in this zone.
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    max_occurrences = models.PositiveIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)  # inclusive, local date
    # Content for occurrences not yet created (see actions._series_content).
    content = models.JSONField(default=dict)
    # Alternative texts, cycled per occurrence (occurrence 1 uses the post's text).
    variations = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The version an approver (or an author who may publish alone) accepted.
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    # The highest occurrence number made (or skipped); only moved under the series' lock.
    last_occurrence = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "post series"

    def __str__(self) -> str:
        return f"series {self.pk} ({self.kind})"


class ComposerDraft(models.Model):
    """What someone typed in the composer and has not saved yet (autosave, per person).

    Saved as they type (with the live check), offered back when they open the
    composer again, and removed when they save the post or discard it. A post's
    own content never changes until they save: a scheduled post stays as it is.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The form's fields, each a list of values (as a QueryDict holds them).
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "workspace", "post"])]

    def __str__(self) -> str:
        return f"composer draft of {self.user_id}"
