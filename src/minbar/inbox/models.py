"""What the audience says to the workspace: inbox items, the people who said it, and replies.

Each item is stored once per (channel, remote id), whatever the order or repetition
of delivery (polling and pushes may both bring it). Contacts are network identities
the audience issue later groups into people.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.core.crypto import EncryptedTextField


class Contact(models.Model):
    """One network identity that interacted with the workspace."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="contacts"
    )
    network = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=300)
    handle = models.CharField(max_length=300, blank=True, default="")
    display_name = models.CharField(max_length=300, blank=True, default="")
    avatar_url = models.URLField(max_length=1000, blank=True, default="")
    profile_url = models.URLField(max_length=1000, blank=True, default="")
    # None: the network did not say (never shown as 0).
    followers = models.PositiveIntegerField(null=True, blank=True)
    vip = models.BooleanField(_("VIP"), default=False)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    interactions_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "remote_id"], name="one_contact_per_identity"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.handle or self.remote_id


class Conversation(models.Model):
    """Direct messages with one contact on one channel."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="conversations"
    )
    remote_id = models.CharField(max_length=300)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "remote_id"], name="one_conversation_id")
        ]

    def __str__(self) -> str:
        return f"conversation {self.remote_id} on channel {self.channel_id}"


class Kind(models.TextChoices):
    COMMENT = "comment", _("Comment")
    REPLY = "reply", _("Reply")
    MENTION = "mention", _("Mention")
    QUOTE = "quote", _("Quote")
    DIRECT_MESSAGE = "direct_message", _("Direct message")
    REVIEW = "review", _("Review")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    SPAM = "spam", _("Spam")


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


MAX_RATING = 5


def valid_rating(value: int | None) -> int | None:
    """A network's star rating when it is one to five, else None (never a made-up number)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_RATING:
        return value
    return None


class Item(models.Model):
    """One comment, reply, mention, quote, direct message or review."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="inbox_items"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="inbox_items"
    )
    remote_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="items")
    text = models.TextField(blank=True, default="")
    # The text and the author's names folded for search (case, Arabic letter forms, diacritics).
    search_text = models.TextField(blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    # A review's stars out of five (Google Business Profile); None for everything else.
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    remote_created_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Reflecting the network: edited text, removed there, hidden by us or them.
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    # What it belongs to: the channel's own post and the thing it answers.
    post_remote_id = models.CharField(max_length=300, blank=True, default="")
    parent_remote_id = models.CharField(max_length=300, blank=True, default="")
    target = models.ForeignKey(
        "publishing.Target", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="items"
    )
    # How to answer it on the network (empty: it cannot be answered there).
    reply_remote_id = models.CharField(max_length=300, blank=True, default="")
    reply_url = models.URLField(max_length=1000, blank=True, default="")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbox_items",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.NORMAL, db_index=True
    )
    sentiment = models.CharField(max_length=8, blank=True, default="")
    sentiment_score = models.FloatField(null=True, blank=True)
    # What minbar.sentiment said, kept when a person corrects ``sentiment``.
    sentiment_predicted = models.CharField(max_length=8, blank=True, default="")
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The first-response target in business time (InboxSettings); warned once, breached once.
    response_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    response_warned_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-remote_created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "remote_id"], name="one_item_per_remote_id")
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "remote_created_at"]),
            models.Index(fields=["workspace", "assignee", "status"]),
            models.Index(fields=["channel", "parent_remote_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.remote_id} on channel {self.channel_id}"

    @property
    def answerable(self) -> bool:
        return bool(self.reply_remote_id) and self.deleted_at is None

    @property
    def stars(self) -> str:
        """The rating drawn as five stars, filled first (for the eye; screen readers get words)."""
        if self.rating is None:
            return ""
        return "\u2605" * self.rating + "\u2606" * (MAX_RATING - self.rating)


class Activity(models.Model):
    """Likes, reposts and follows: counted, never inbox items."""

    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=16)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="activities")
    post_remote_id = models.CharField(max_length=300, blank=True, default="")
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "remote_id"], name="one_activity_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.remote_id}"


class Cursor(models.Model):
    """Where polling a channel's interactions left off; also its lease, so one worker polls."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="inbox_cursor"
    )
    cursor = models.TextField(blank=True, default="")
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # The network does not offer interactions through its API.
    unsupported = models.BooleanField(default=False)
    # Pushes: "" not tried yet, "active", "unsupported", or "failed" (tried again later).
    push_state = models.CharField(max_length=12, blank=True, default="")
    push_retry_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"inbox cursor of channel {self.channel_id}"


class Note(models.Model):
    """An internal note on an item, for the team only."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on {self.item_id}"


def new_key() -> str:
    return uuid.uuid4().hex


class ReplyState(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The network may have it: never re-sent blindly (like a post's target).
    UNCONFIRMED = "unconfirmed", _("Unconfirmed")


class Reply(models.Model):
    """An answer sent from Minbar; kept whatever happens, with the network's reason."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    # Library files sent with it: [{"asset": id, "alt_text": ...}].
    media = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=12, choices=ReplyState.choices, default=ReplyState.SENDING)
    idempotency_key = models.CharField(max_length=64, unique=True, default=new_key)
    remote_id = models.CharField(max_length=300, blank=True, default="")
    url = models.URLField(max_length=1000, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_detail = models.TextField(blank=True, default="")
    by_rule = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"reply to {self.item_id} ({self.state})"


class SavedReply(models.Model):
    """A reply the team reuses; {first_name}, {name}, {handle}, {brand}, {agent} are filled in."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="saved_replies"
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class Viewing(models.Model):
    """Who has an item open, so two people do not answer the same person twice."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="viewings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="one_viewing_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} viewing {self.item_id}"


class Rule(models.Model):
    """An automation: when an item arriving matches every condition, do the actions.

    Rules run in ``position`` order on each new item; a rule with ``stop`` ends the
    run for that item. Conditions and actions are documented in docs/inbox.md.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="inbox_rules"
    )
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=dict, blank=True)
    stop = models.BooleanField(_("stop after this rule"), default=False)
    # Whose turn is next when the rule assigns round-robin.
    next_turn = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ItemEvent(models.Model):
    """What happened to an item: rules applied, assignments, status changes, replies."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey(
        Rule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.item_id}"


def default_hours() -> dict[str, list[list[str]]]:
    # Monday = "0" ... Sunday = "6"; a workspace sets its own week (Sunday to Thursday, ...).
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


class InboxSettings(models.Model):
    """A workspace's business hours and response-time target."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="inbox_settings"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    hours = models.JSONField(default=default_hours)
    holidays = models.JSONField(default=list, blank=True)
    first_response_target_minutes = models.PositiveIntegerField(
        _("first response target (business minutes)"), default=60
    )
    warn_before_minutes = models.PositiveIntegerField(
        _("warn before the target (minutes)"), default=15
    )

    def __str__(self) -> str:
        return f"inbox settings of {self.workspace_id}"


class SentimentCorrection(models.Model):
    """A person's correction of an item's sentiment: kept, counted, and used to tune."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="sentiment_corrections")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    language = models.CharField(max_length=16, blank=True, default="")
    predicted = models.CharField(max_length=8)
    corrected = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.predicted} → {self.corrected} on {self.item_id}"


class SavedView(models.Model):
    """A named set of inbox filters; shared with the team or kept for oneself."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="inbox_views"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000)
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


def new_hook_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class PushHook(models.Model):
    """A network pushing a channel's new interactions to Minbar (a webhook subscription).

    The address carries an unguessable token; the secret checks each push's
    signature and the verify token answers the network's verification request.
    """

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="push_hook"
    )
    token = models.CharField(max_length=64, unique=True, default=new_hook_token)
    secret = EncryptedTextField()
    verify_token = models.CharField(max_length=64, default=new_hook_token)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_push_at = models.DateTimeField(null=True, blank=True)
    pushes = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"push hook of channel {self.channel_id}"
