"""Fetching counters from the networks: published posts on the decaying schedule, accounts daily.

Every minute a periodic task (tasks.py) finds newly published targets and starts
tracking them, then hands each channel with work due to one worker: a channel's
:class:`Collector` row is its lease, taken with a conditional UPDATE, so several
workers never fetch the same channel at once. A channel's due posts are fetched
in batches (``post_metrics`` takes many ids), a bounded number of batches per run.

The network's answer decides what happens next: a rate limit makes the channel
wait until the network's reset (and tells publishing, through the channel's
health); an expired sign-in is noted on the channel and collection stops until
someone reconnects it; other errors back off, doubling up to six hours. A post
the network no longer returns is given up after three tries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minbar.analytics import schedule
from minbar.analytics.definitions import ADDITIVE_POST_KEYS, engagements
from minbar.analytics.models import AccountSnapshot, Collector, PostTag, Snapshot, Tracker
from minbar.analytics.store import Event, get_store
from minbar.channels.models import Channel, Health
from minbar.connectors.errors import AuthExpired, ConnectorError, NotSupported, RateLimited
from minbar.connectors.types import ACCOUNT_METRIC_KEYS, POST_METRIC_KEYS, Metrics

logger = logging.getLogger("minbar.analytics")

LEASE = timedelta(minutes=10)
BATCH = 100  # ids per post_metrics call
MAX_BATCHES = 10  # per channel per run, so one busy channel cannot hold a worker
MAX_MISSES = 3
BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class Collected:
    posts: int = 0
    events: int = 0
    accounts: int = 0
    error: str = ""


def track_published(limit: int = 500) -> int:
    """Start tracking published targets that have a remote id (idempotent)."""
    from minbar.publishing.models import Target, TargetState

    plan = schedule.offsets()
    found = list(
        Target.objects.filter(state=TargetState.PUBLISHED, metric_tracker__isnull=True)
        .exclude(remote_id="")
        .select_related("post", "channel")
        .order_by("pk")[:limit]
    )
    if not found:
        return 0
    trackers = []
    tags: list[PostTag] = []
    for target in found:
        published = target.published_at or target.updated_at
        trackers.append(
            Tracker(
                target=target,
                workspace_id=target.channel.workspace_id,
                channel_id=target.channel_id,
                post_id=target.post_id,
                remote_id=target.remote_id,
                published_at=published,
                next_collect_at=schedule.first_due(published, plan),
            )
        )
        tags.extend(
            PostTag(workspace_id=target.post.workspace_id, post_id=target.post_id, tag=str(tag))
            for tag in target.post.tags or []
            if str(tag).strip()
        )
    with transaction.atomic():
        # Another worker may track the same targets meanwhile: the one-to-one wins.
        Tracker.objects.bulk_create(trackers, ignore_conflicts=True)
        PostTag.objects.bulk_create(tags, ignore_conflicts=True)
    return len(trackers)


def due_channels(now: datetime, limit: int = 50) -> list[int]:
    """Channels with posts due, or no account snapshot today, that nobody is collecting."""
    Collector.objects.bulk_create(
        [
            Collector(channel_id=pk)
            for pk in Channel.objects.filter(metrics_collector__isnull=True).values_list(
                "pk", flat=True
            )
        ],
        ignore_conflicts=True,
    )
    with_posts = Tracker.objects.filter(next_collect_at__lte=now).values("channel_id")
    account_due = Q(account_unsupported=False) & (
        Q(account_day__isnull=True) | Q(account_day__lt=now.date())
    )
    return list(
        Collector.objects.filter(
            Q(channel_id__in=with_posts, posts_unsupported=False) | account_due
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(wait_until__isnull=True) | Q(wait_until__lte=now))
        .exclude(channel__health=Health.NEEDS_RECONNECT)
        .exclude(channel__rate_limited_until__gt=now)
        .order_by("last_run_at")
        .values_list("channel_id", flat=True)[:limit]
    )


def collect_channel(
    channel_id: int, now: datetime | None = None, *, extra: bool = False
) -> Collected:
    """Fetch one channel's due post counters and (once a day) its account counters.

    ``extra``: every tracked post now, outside the schedule (the demo's warm-up).
    """
    from minbar.channels.actions import connector_for, note_failure, note_success

    now = now or timezone.now()
    result = Collected()
    if Channel.objects.filter(pk=channel_id, metrics_collector__isnull=True).exists():
        Collector.objects.bulk_create([Collector(channel_id=channel_id)], ignore_conflicts=True)
    claimed = (
        Collector.objects.filter(channel_id=channel_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(wait_until__isnull=True) | Q(wait_until__lte=now))
        .update(lease_until=now + LEASE)
    )
    if not claimed:
        return result
    collector = Collector.objects.select_related("channel").get(channel_id=channel_id)
    channel = collector.channel
    changes: dict[str, object] = {"lease_until": None, "last_run_at": now}
    if channel.health == Health.NEEDS_RECONNECT:
        Collector.objects.filter(pk=collector.pk).update(**changes)
        return result
    connector = connector_for(channel)
    caps = connector.account_capabilities()
    stage = "posts"
    try:
        if not collector.posts_unsupported and caps.post_metrics:
            _collect_posts(channel, connector.post_metrics, now, result, extra=extra)
        elif not caps.post_metrics:
            changes["posts_unsupported"] = True
        stage = "account"
        if not collector.account_unsupported and collector.account_day != now.date():
            if caps.account_metrics:
                _record_account(channel, connector.account_metrics(), now)
                result.accounts = 1
                changes["account_day"] = now.date()
            else:
                changes["account_unsupported"] = True
    except NotSupported as exc:
        changes["posts_unsupported" if stage == "posts" else "account_unsupported"] = True
        changes["last_error"] = exc.message[:500]
        if stage == "posts":
            Tracker.objects.filter(channel=channel, next_collect_at__isnull=False).update(
                next_collect_at=None, last_error=exc.message[:500]
            )
    except RateLimited as exc:
        # Shared with publishing through the channel's health: nobody hammers the network.
        note_failure(channel, exc)
        changes |= {"wait_until": exc.until, "last_error": exc.message[:500]}
        result.error = exc.message
    except AuthExpired as exc:
        note_failure(channel, exc)  # the channel asks for a reconnect; collection stops
        changes["last_error"] = exc.message[:500]
        result.error = exc.message
    except ConnectorError as exc:
        failures = collector.failures + 1
        wait = min(MAX_BACKOFF, BACKOFF * 2 ** (failures - 1))
        changes |= {"failures": failures, "wait_until": now + wait, "last_error": exc.message[:500]}
        result.error = exc.message
        logger.warning("analytics: channel %s metrics failed: %s", channel_id, exc.message)
    else:
        changes |= {"failures": 0, "wait_until": None, "last_error": ""}
        if channel.health != Health.CONNECTED:
            note_success(channel)
    finally:
        Collector.objects.filter(pk=collector.pk).update(**changes)
    return result


def _collect_posts(
    channel: Channel,
    fetch: Callable[[list[str]], dict[str, Metrics]],
    now: datetime,
    result: Collected,
    *,
    extra: bool = False,
) -> None:
    plan = schedule.offsets()
    after = 0
    for _batch in range(MAX_BATCHES):
        if extra:  # every post still on its schedule, which stays as it is
            chosen = Tracker.objects.filter(
                channel=channel, next_collect_at__isnull=False, pk__gt=after
            ).order_by("pk")
        else:
            chosen = Tracker.objects.filter(channel=channel, next_collect_at__lte=now).order_by(
                "next_collect_at", "pk"
            )
        due = list(chosen[:BATCH])
        if not due:
            return
        after = due[-1].pk
        fetched = fetch([t.remote_id for t in due])
        with transaction.atomic():
            for tracker in due:
                result.events += record_snapshot(
                    tracker, fetched.get(tracker.remote_id), now, plan, extra=extra
                )
                result.posts += 1
        if len(due) < BATCH:
            return


def deltas(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Increase of each additive counter the network gave (absent keys give no event).

    A counter may go down (an unlike, a deleted comment): the decrease is kept, so
    the sum of a post's events always equals its latest counters.
    """
    changes = {}
    for key in ADDITIVE_POST_KEYS:
        if key in after:
            change = after[key] - before.get(key, 0)
            if change:
                changes[key] = change
    return changes


def record_snapshot(
    tracker: Tracker,
    metrics: Metrics | None,
    now: datetime,
    plan: tuple[timedelta, ...] | None = None,
    *,
    extra: bool = False,
) -> int:
    """Store one fetch of a tracked post; returns the events written (0 when raced or missing).

    The tracker row is updated only if nobody else recorded a snapshot for it since
    it was read, so a run that lost its lease never writes a snapshot twice. An
    ``extra`` snapshot (taken outside the schedule) leaves the schedule as it is.
    """
    plan = plan or schedule.offsets()
    step, next_at = schedule.next_step(tracker.published_at, tracker.step, now, plan)
    if extra:
        step, next_at = tracker.step, tracker.next_collect_at
    if metrics is None:
        misses = tracker.misses + 1
        gone = misses >= MAX_MISSES
        Tracker.objects.filter(pk=tracker.pk, snapshots=tracker.snapshots).update(
            misses=misses,
            step=step,
            next_collect_at=None if gone else next_at,
            last_error="The network did not return this post (deleted there?).",
        )
        return 0
    values = {k: int(v) for k, v in metrics.values.items() if k in POST_METRIC_KEYS}
    updated = Tracker.objects.filter(pk=tracker.pk, snapshots=tracker.snapshots).update(
        values=values,
        engagements=engagements(values),
        impressions=values.get("impressions"),
        reach=values.get("reach"),
        collected_at=now,
        snapshots=tracker.snapshots + 1,
        step=step,
        next_collect_at=next_at,
        misses=0,
        last_error="",
    )
    if not updated:
        return 0
    Snapshot.objects.create(tracker=tracker, fetched_at=now, values=values)
    events = [
        Event(
            workspace_id=tracker.workspace_id,
            channel_id=tracker.channel_id,
            post_id=tracker.post_id,
            target_id=tracker.target_id,
            metric=key,
            occurred_at=now,
            value=change,
        )
        for key, change in deltas(tracker.values or {}, values).items()
    ]
    get_store().record(events)
    return len(events)


def _record_account(channel: Channel, metrics: Metrics, now: datetime) -> None:
    values = {k: int(v) for k, v in metrics.values.items() if k in ACCOUNT_METRIC_KEYS}
    AccountSnapshot.objects.update_or_create(
        channel=channel,
        day=now.date(),
        defaults={"workspace_id": channel.workspace_id, "fetched_at": now, "values": values},
    )


def resync_tags(workspace_id: int | None = None) -> int:
    """Tracked posts' tags as the posts have them now (before a rebuild)."""
    from minbar.publishing.models import Post

    posts = Post.objects.filter(
        pk__in=Tracker.objects.values("post_id").distinct()
        if workspace_id is None
        else Tracker.objects.filter(workspace_id=workspace_id).values("post_id").distinct()
    ).only("pk", "workspace_id", "tags")
    rows = [
        PostTag(workspace_id=p.workspace_id, post_id=p.pk, tag=str(tag))
        for p in posts
        for tag in dict.fromkeys(p.tags or [])
        if str(tag).strip()
    ]
    with transaction.atomic():
        stale = PostTag.objects.all()
        if workspace_id is not None:
            stale = stale.filter(workspace_id=workspace_id)
        stale.delete()
        PostTag.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
