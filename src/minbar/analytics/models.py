"""What analytics keeps: trackers of published posts, raw snapshots, delta events, rollups.

Networks report cumulative counters ("this post has 42 likes"). Each snapshot is
kept as fetched (:class:`Snapshot`), and the increase since the previous one is
written as events (:class:`MetricEvent`, one row per metric) dated when the
snapshot saw it, so a time series shows engagement by when it happened, not by
when the post went out. Rollups (:class:`Rollup`) are sums of events per hour
and per day; they are derived data, rebuilt from events by
``minbar analytics rebuild``. Only :mod:`minbar.analytics.store` reads or
writes events and rollups (docs/analytics.md).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tracker(models.Model):
    """One published target whose counters are fetched on the decaying schedule."""

    target = models.OneToOneField(
        "publishing.Target", on_delete=models.CASCADE, related_name="metric_tracker"
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=300)
    published_at = models.DateTimeField()
    # Snapshots taken on the schedule so far; the next one is schedule[step].
    step = models.PositiveSmallIntegerField(default=0)
    # NULL once the schedule is done (or the network stopped returning the post).
    next_collect_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The latest counters as the network gave them; an absent key is "not provided".
    values = models.JSONField(default=dict, blank=True)
    # From ``values`` (definitions.engagements; NULL = not provided), so dashboards
    # rank posts and average reach in SQL.
    engagements = models.BigIntegerField(null=True, blank=True)
    impressions = models.BigIntegerField(null=True, blank=True)
    reach = models.BigIntegerField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    snapshots = models.PositiveIntegerField(default=0)
    # Times in a row the network did not return the post (deleted there?).
    misses = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["channel", "next_collect_at"], name="tracker_channel_due"),
            models.Index(fields=["workspace", "published_at"], name="tracker_ws_published"),
        ]

    def __str__(self) -> str:
        return f"metrics of target {self.target_id}"


class Collector(models.Model):
    """Per channel: the lease that makes one worker collect it, and when to wait."""

    channel = models.OneToOneField(
        "channels.Channel", on_delete=models.CASCADE, related_name="metrics_collector"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    # Not before this (a rate limit's reset, a back-off after a network error).
    wait_until = models.DateTimeField(null=True, blank=True)
    # The UTC day of the last account snapshot (followers…), once a day.
    account_day = models.DateField(null=True, blank=True)
    # The connector cannot give post or account metrics at all (NotSupported).
    posts_unsupported = models.BooleanField(default=False)
    account_unsupported = models.BooleanField(default=False)
    failures = models.PositiveSmallIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"metrics collector of channel {self.channel_id}"


class Snapshot(models.Model):
    """A post's counters exactly as one fetch returned them."""

    tracker = models.ForeignKey(Tracker, on_delete=models.CASCADE, related_name="history")
    fetched_at = models.DateTimeField()
    values = models.JSONField(default=dict)

    class Meta:
        ordering = ["fetched_at", "id"]
        indexes = [models.Index(fields=["tracker", "fetched_at"], name="snapshot_tracker_at")]

    def __str__(self) -> str:
        return f"snapshot of tracker {self.tracker_id} at {self.fetched_at:%Y-%m-%d %H:%M}"


class AccountSnapshot(models.Model):
    """A channel's account counters (followers, impressions where given), once per UTC day."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    fetched_at = models.DateTimeField()
    values = models.JSONField(default=dict)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "day"], name="one_account_snapshot_a_day")
        ]
        indexes = [models.Index(fields=["workspace", "day"], name="account_snapshot_ws_day")]

    def __str__(self) -> str:
        return f"account metrics of channel {self.channel_id} on {self.day}"


class MetricEvent(models.Model):
    """An increase (or decrease) of one counter, dated when a snapshot saw it.

    ``hour`` is ``occurred_at`` in whole hours since 1970 (UTC), stored so that
    rollups group by a plain integer on every database. Post and target are
    plain ids: the history stays in the workspace's totals if a post is deleted.
    """

    # No index of its own: (workspace, hour) below serves it.
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.ForeignKey("channels.Channel", on_delete=models.CASCADE, related_name="+")
    post_id = models.BigIntegerField()
    target_id = models.BigIntegerField()
    metric = models.CharField(max_length=16)
    occurred_at = models.DateTimeField()
    hour = models.IntegerField()
    value = models.BigIntegerField()
    # When the row was written; the rollup watermark moves along it.
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "hour"], name="event_ws_hour"),
            models.Index(fields=["post_id", "hour"], name="event_post_hour"),
            models.Index(fields=["recorded_at"], name="event_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.value:+d} on post {self.post_id}"


class PostTag(models.Model):
    """A tracked post's tags (campaigns), so rollups can be summed per tag in SQL."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    post_id = models.BigIntegerField()
    tag = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post_id", "tag"], name="one_post_tag")]
        indexes = [models.Index(fields=["workspace", "tag"], name="post_tag_ws")]

    def __str__(self) -> str:
        return f"#{self.tag} on post {self.post_id}"


class Grain(models.TextChoices):
    HOUR = "h", "hour"
    DAY = "d", "day"


class Rollup(models.Model):
    """Sum of events per bucket, channel, tag ("" = every post) and metric.

    ``bucket`` counts whole hours (grain "h") or whole UTC days (grain "d") since 1970.
    Hour rows with no channel sum every channel of the workspace: the series of a
    workspace or a tag reads those (a tenth of the rows) instead of adding channels up.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    grain = models.CharField(max_length=1, choices=Grain.choices)
    bucket = models.IntegerField()
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    tag = models.CharField(max_length=100, blank=True, default="")
    metric = models.CharField(max_length=16)
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "grain", "tag", "bucket", "channel", "metric"],
                name="one_rollup_cell",
            )
        ]
        indexes = [
            # The series of a workspace or tag reads its all-channels hour rows
            # (channel NULL) without touching the per-channel ones: covering, in order.
            models.Index(
                fields=["workspace", "grain", "tag", "channel", "bucket", "metric", "value"],
                name="rollup_series",
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}={self.value} ({self.grain} {self.bucket})"


class Watermark(models.Model):
    """How far events have been rolled up, and the lease of the worker rolling them up."""

    name = models.CharField(max_length=40, unique=True)
    position = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class TargetKind(models.TextChoices):
    ABSOLUTE = "absolute", _("A value to reach")
    PERCENT = "percent", _("A change over the baseline (%)")


class Goal(models.Model):
    """A metric to move by an end day: "conversions of #launch up 15 % by the end of March".

    ``target_value`` is what the user typed, in the metric's entry unit (percent for
    rates, minutes for response time; for a percent target, the percentage).
    ``baseline`` is the metric over the same number of days just before
    ``start_day``, in the metric's own unit, kept from when it was last computed.
    The days are whole days in ``time_zone``. :mod:`minbar.analytics.goals` measures
    progress; ``alerted_behind`` remembers that the "behind" alert went out, so it goes
    out once per fall, again only after a recovery.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=32)
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    target_value = models.DecimalField(max_digits=18, decimal_places=4)
    start_day = models.DateField()
    end_day = models.DateField()
    time_zone = models.CharField(max_length=64, default="UTC")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    tag = models.CharField(max_length=100, blank=True, default="")
    owner = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    baseline = models.FloatField(null=True, blank=True)
    baseline_computed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, blank=True, default="")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    alerted_behind = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["end_day", "name", "pk"]
        indexes = [models.Index(fields=["workspace", "end_day"], name="goal_ws_end")]

    def __str__(self) -> str:
        return self.name
