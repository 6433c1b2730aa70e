"""Sandbox accounts, their posts, and the scheduled events of their simulated audience.

Times: ``*_ms`` columns are milliseconds since the epoch. ``due_ms`` is on the
account's *simulated* clock (which runs ``speed`` times faster than real time
and can be advanced); ``occurred_ms`` is the *real* time the event became
visible, set when the simulated clock passed ``due_ms``. An event is released
exactly when ``due_ms <= account.released_until_ms``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from minbar.sandbox.flavours import Flavour


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SandboxAccount(models.Model):
    handle = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    flavour = models.CharField(max_length=16, choices=Flavour.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The audience: a pure function of these (see audience.py).
    seed = models.BigIntegerField()
    audience_size = models.PositiveIntegerField(default=3000)
    arabic_share = models.FloatField(default=0.4)
    follower_share = models.FloatField(default=0.35)
    topics = models.JSONField(default=list, blank=True)
    # The simulated clock: sim = anchor_sim + (now - anchor_real) * speed.
    speed = models.FloatField(default=60.0)
    clock_anchor_real = models.DateTimeField(default=timezone.now)
    clock_anchor_sim_ms = models.BigIntegerField()
    released_until_ms = models.BigIntegerField()  # simulated time released so far
    released_real_ms = models.BigIntegerField()  # real time of that release
    background_until_ms = models.BigIntegerField()  # simulated days scheduled so far
    # Fault injection and rate-limit overrides (see actions.set_faults).
    faults = models.JSONField(default=dict, blank=True)
    request_window_start = models.DateTimeField(null=True, blank=True)
    request_window_count = models.PositiveIntegerField(default=0)
    request_count = models.BigIntegerField(default=0)
    post_counter = models.PositiveIntegerField(default=0)
    # Pushes (webhooks), Meta-style: where to, the app secret that signs them, and
    # the notifications cursor up to which they were delivered.
    webhook_url = models.CharField(max_length=1000, blank=True, default="")
    webhook_secret = models.CharField(max_length=200, blank=True, default="")
    webhook_cursor = models.CharField(max_length=64, blank=True, default="")
    # The network's own address as the subscriber reached it (for links in pushes).
    webhook_base = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["handle"]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.flavour})"


class SandboxPost(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="posts")
    number = models.PositiveIntegerField()  # per account; seeds the post's simulation
    text = models.TextField(blank=True, default="")
    media = models.JSONField(default=list, blank=True)
    link = models.CharField(max_length=2000, blank=True, default="")
    urls = models.JSONField(default=list, blank=True)  # clickable destinations
    language = models.CharField(max_length=8, default="en")
    topics = models.JSONField(default=list, blank=True)
    visibility = models.CharField(max_length=16, default="public")
    reply_to_post = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    reply_to_event = models.ForeignKey(
        "SandboxEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="answers"
    )
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    published_sim_ms = models.BigIntegerField()
    simulated = models.PositiveIntegerField(default=0)  # events scheduled at publication
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_post_number"),
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="sandbox_post_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["account", "created_at"], name="sandbox_post_recent")]

    def __str__(self) -> str:
        return f"p{self.pk}"

    @property
    def remote_id(self) -> str:
        return f"p{self.pk}"

    @property
    def is_reply(self) -> bool:
        return self.reply_to_post_id is not None or self.reply_to_event_id is not None


class EventKind(models.TextChoices):
    IMPRESSIONS = "impressions"  # a batch: ``count`` impressions, ``reach`` new viewers
    LIKE = "like"
    COMMENT = "comment"
    REPLY = "reply"  # an answer to one of the account's replies
    SHARE = "share"
    CLICK = "click"
    FOLLOW = "follow"
    MENTION = "mention"
    MESSAGE = "message"
    REVIEW = "review"
    CHATTER = "chatter"  # a public post by the audience, found through search


INTERACTION_KINDS = (
    EventKind.COMMENT,
    EventKind.REPLY,
    EventKind.MENTION,
    EventKind.MESSAGE,
    EventKind.REVIEW,
    EventKind.LIKE,
    EventKind.SHARE,
    EventKind.FOLLOW,
)


class SandboxEvent(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="events")
    post = models.ForeignKey(
        SandboxPost, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    person = models.IntegerField(null=True, blank=True)  # index in the account's audience
    due_ms = models.BigIntegerField()
    occurred_ms = models.BigIntegerField(null=True, blank=True)
    count = models.PositiveIntegerField(default=1)
    reach = models.PositiveIntegerField(default=0)
    text = models.TextField(blank=True, default="")
    language = models.CharField(max_length=8, blank=True, default="")
    sentiment = models.CharField(max_length=8, blank=True, default="")
    url = models.CharField(max_length=2000, blank=True, default="")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_ms", "id"]
        indexes = [
            models.Index(fields=["account", "due_ms"], name="sandbox_event_due"),
            models.Index(fields=["post", "kind"], name="sandbox_event_post_kind"),
        ]

    def __str__(self) -> str:
        return f"e{self.pk}:{self.kind}"

    @property
    def remote_id(self) -> str:
        return f"e{self.pk}"
