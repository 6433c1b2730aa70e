"""The dispatcher: claims due targets in the database and publishes each one once.

The database is the source of truth and the queue only wakes workers up
(docs/publishing.md tells the whole story). One pass, :func:`dispatch_due`:

1. :func:`reap_stale` — targets left ``publishing`` by a worker that died become
   ``unconfirmed`` (it may have sent them);
2. :func:`reconcile_unconfirmed` — unconfirmed targets are looked up on the
   network by their idempotency key: found → published, certainly absent →
   scheduled again, cannot tell → left for a person;
3. due targets are **claimed** one at a time in a short transaction (PostgreSQL:
   ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: a conditional ``UPDATE … WHERE
   state='scheduled'``, rowcount 1 = ours), after the late cutoff, the channel's
   health, the posting limits and the per-channel concurrency cap (all counted in
   the database, so shared by every worker) have had their say;
4. each claimed target is published **outside** any transaction (a network call
   must not hold database locks — on SQLite that would stop every writer), and
   its outcome is recorded in one transaction with its history event and the
   post's aggregate state: published with the remote id, or a retry with
   backoff, or failed, or unconfirmed.

Several passes may run at once (worker threads, processes, machines): claims are
exclusive, so they share the work. The Huey tasks that run passes, and how they
wake up on time, are in :mod:`minbar.publishing.tasks`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minbar.accounts.models import User
from minbar.channels.models import Channel, Health
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from minbar.connectors.options import CONTENT_WARNING, VISIBILITY
from minbar.connectors.types import PostRequest, PublishResult
from minbar.core import plainsql
from minbar.core.errors import Conflict
from minbar.core.writes import write_transaction
from minbar.publishing import limits
from minbar.publishing.limits import limit_warnings
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState

logger = logging.getLogger("minbar.publishing")

__all__ = [
    "dispatch_due",
    "kick",
    "limit_warnings",
    "reap_stale",
    "reconcile_unconfirmed",
    "refresh_post_state",
    "retry_target",
]

# -- settings (all optional; read at use so tests and deployments can change them) ----------


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def late_cutoff() -> timedelta | None:
    """How late a target may go out before it is held instead; None (or ≤ 0) turns it off."""
    minutes = _setting("MINBAR_LATE_CUTOFF_MINUTES", 30)
    if minutes is None or float(minutes) <= 0:
        return None
    return timedelta(minutes=float(minutes))


def cutoff_words() -> str:
    """The late cutoff in words, for messages ("30 minutes")."""
    cutoff = late_cutoff()
    return limits.describe_window(int(cutoff.total_seconds())) if cutoff else ""


def max_attempts() -> int:
    return max(1, int(_setting("MINBAR_PUBLISH_MAX_ATTEMPTS", 5)))


def call_timeout() -> float:
    """Seconds a connector waits for one answer from the network."""
    return float(_setting("MINBAR_PUBLISH_TIMEOUT_SECONDS", 20))


def lease() -> timedelta:
    """How long a claim may last before the reaper presumes its worker dead (default 5 min).

    Generous on purpose: one publish can be several calls (thread parts, media
    uploads and their processing), and reaping a live worker's claim only costs a
    lookup, but reaping it *early* on a network without idempotency could let a
    post out twice. Dead workers on the same machine are found much sooner (see
    :func:`claimer_is_dead`).
    """
    return timedelta(seconds=float(_setting("MINBAR_PUBLISH_LEASE_SECONDS", 300)))


def dead_worker_grace() -> timedelta:
    """A claim of a worker known to be dead is reaped after this, not at once.

    The network may still be finishing the request the worker sent just before
    dying; looking the post up a few seconds later finds it.
    """
    return timedelta(seconds=float(_setting("MINBAR_PUBLISH_DEAD_WORKER_GRACE_SECONDS", 5)))


def reconcile_delay() -> timedelta:
    """Wait this long after an unknown outcome before asking the network (it may be slow)."""
    return timedelta(seconds=float(_setting("MINBAR_PUBLISH_RECONCILE_DELAY_SECONDS", 5)))


def publish_threads() -> int:
    """Publishing threads per pass: calls in flight at once (each mostly waits)."""
    return max(1, int(_setting("MINBAR_PUBLISH_THREADS", 16)))


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: base·2^(n-1), capped, drawn from its upper half.

    The jitter spreads the retries of a burst that failed together, so they do
    not hit a recovering network at the same instant.
    """
    base = float(_setting("MINBAR_PUBLISH_RETRY_SECONDS", 30))
    cap = float(_setting("MINBAR_PUBLISH_RETRY_MAX_SECONDS", 15 * 60))
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=random.uniform(delay / 2, delay))


def now() -> datetime:
    return timezone.now()


# -- who is claiming: a worker identity the reaper can check --------------------------------


@cache
def _machine_tag() -> str:
    """Same value for processes that can see each other's PIDs (same boot, same PID namespace)."""
    parts = [socket.gethostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            parts.append(handle.read().strip())
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass  # not Linux: the hostname alone, and os.kill to check PIDs
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]


def _process_start(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), "?" if alive but unknown, None if gone.

    Comparing start times tells a reused PID from the worker that had it.
    """
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "?"
    return "?"


def worker_name(suffix: str = "") -> str:
    """``host:machine:pid:start:suffix`` — unique per thread, and checkable by the reaper."""
    pid = os.getpid()
    host = socket.gethostname().split(".")[0][:40] or "host"
    name = f"{host}:{_machine_tag()}:{pid}:{_process_start(pid) or '?'}:{suffix}"
    return name[:100]


def claimer_is_dead(claimed_by: str) -> bool:
    """True only when certain: the claimer ran on this machine and its process is gone."""
    parts = claimed_by.split(":")
    if len(parts) < 5 or parts[1] != _machine_tag():
        return False  # another machine (or a name given by a caller): only the lease can tell
    try:
        pid = int(parts[2])
    except ValueError:
        return False
    current = _process_start(pid)
    if current is None:
        return True
    return "?" not in (current, parts[3]) and current != parts[3]


# -- transitions: one transaction each, with the history event and the post's state ---------


def refresh_post_state(post_id: int, *, old: str | None = None) -> str | None:
    """Set the post's aggregate state from its targets'; call inside the transition's transaction.

    The post row is locked first, so two workers finishing two targets of one
    post at the same moment cannot leave it showing an older combination. A
    caller that already holds the lock passes the state it read as ``old``.
    """
    if old is None:
        old = (
            Post.objects.select_for_update()
            .filter(pk=post_id)
            .order_by()
            .values_list("state", flat=True)
            .first()
        )
    if old is None:
        return None
    rows = (
        Target.objects.filter(post_id=post_id)
        .exclude(
            state__in=(TargetState.CANCELLED, TargetState.DRAFT, TargetState.AWAITING_APPROVAL)
        )
        .order_by()  # Target's default ordering joins channels; not needed here
    )
    new = _aggregate_state(list(rows.values_list("state", "next_attempt_at")))
    if new is None:
        return str(old)
    if new != old:
        Post.objects.filter(pk=post_id).update(state=new)
    return str(new)


def _aggregate_state(states: list[tuple[str, datetime | None]]) -> str | None:
    """The post's state from its live targets' (state, next attempt); None without any."""
    if not states:
        return None
    published = sum(1 for state, _ in states if state == TargetState.PUBLISHED)
    # An unconfirmed target with a lookup to come is still in progress;
    # one without (next_attempt_at NULL) waits for a person, like a failure.
    checking = any(s == TargetState.UNCONFIRMED and at is not None for s, at in states)
    scheduled = any(s == TargetState.SCHEDULED for s, _ in states)
    if any(s == TargetState.PUBLISHING for s, _ in states) or checking:
        return str(PostState.PUBLISHING)
    if scheduled:
        return str(PostState.PUBLISHING if published else PostState.SCHEDULED)
    if published == len(states):
        return str(PostState.PUBLISHED)
    if published:
        return str(PostState.PARTLY_PUBLISHED)
    return str(PostState.FAILED)


def _transition(
    target_id: int,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    kind: str,
    message: str = "",
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    claimed_by: str | None = None,
    condition: Q | None = None,
    actor: User | None = None,
    post_id: int | None = None,
) -> bool:
    """Move one target between states if it is still in one of ``from_states``.

    The conditional update is what makes every transition safe against a
    concurrent one (a reaper, a person pressing "retry", another worker): the
    loser's update matches no row and it changes nothing. ``claimed_by`` and
    ``condition`` narrow it further (still this worker's claim; still due).

    Locks are taken post first, then target — the order the publishing actions
    use — so a dispatcher and a person cancelling the same post never deadlock.
    """
    if post_id is None:
        post_id = Target.objects.filter(pk=target_id).values_list("post_id", flat=True).first()
        if post_id is None:
            return False
    with write_transaction():
        post_state = (
            Post.objects.select_for_update()
            .filter(pk=post_id)
            .order_by()
            .values_list("state", flat=True)
            .first()
        )
        if post_state is None:
            return False
        rows = Target.objects.filter(pk=target_id, state__in=from_states).order_by()
        if claimed_by is not None:
            rows = rows.filter(claimed_by=claimed_by)
        if condition is not None:
            rows = rows.filter(condition)
        if len(from_states) == 1:
            # One state it can come from: the conditional UPDATE alone decides (and
            # locks the row), no need to read it first.
            from_state = str(from_states[0])
        else:
            found = rows.select_for_update().values_list("state", flat=True).first()
            if found is None:
                return False
            from_state = str(found)
        if (
            rows.filter(state=from_state).update(
                state=to_state, updated_at=now(), **(changes or {})
            )
            != 1
        ):
            return False
        PostEvent.objects.create(
            post_id=post_id,
            target_id=target_id,
            actor=actor,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            message=message,
            data=data or {},
        )
        refresh_post_state(post_id, old=str(post_state))
    return True


def _error_fields(kind: str, message: str, detail: str = "") -> dict[str, Any]:
    return {
        "last_error_kind": kind[:24],
        "last_error_message": message,
        "last_error_detail": detail,
    }


def _when(moment: datetime, channel: Channel) -> str:
    """A time in the workspace's zone, for messages stored for people."""
    try:
        zone = ZoneInfo(channel.workspace.time_zone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = timezone.localtime(moment, zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def _label(channel: Channel) -> str:
    from minbar.channels.actions import connector_class

    try:
        network = str(connector_class(channel.network).capabilities.label)
    except Exception:
        network = channel.network
    return f"{channel.handle} ({network})"


# -- telling people ----------------------------------------------------------------------


def post_url(target: Target) -> str:
    """The post's page (built by the publishing views)."""
    return f"/w/{target.post.workspace.slug}/publishing/posts/{target.post_id}/"


def _notify(target_id: int, kind: str) -> None:
    """Tell the workspace's owners and admins and the post's author; never fail the caller."""
    from minbar.notifications.actions import notify, workspace_admins
    from minbar.workspaces.models import Membership

    try:
        target = (
            Target.objects.select_related("post__workspace", "post__author", "channel__workspace")
            .defer("channel__credentials_blob")
            .get(pk=target_id)
        )
        workspace = target.post.workspace
        users = {user.pk: user for user in workspace_admins(workspace)}
        author = target.post.author
        if (
            author is not None
            and author.is_active
            and Membership.objects.filter(user=author, workspace=workspace).exists()
        ):
            users.setdefault(author.pk, author)
        label = _label(target.channel)
        reason = target.last_error_message
        titles = {
            "failed": lambda: (
                _("A post could not be published on %(channel)s") % {"channel": label}
            ),
            "held": lambda: (
                _("A post for %(channel)s was held and waits for you") % {"channel": label}
            ),
            "unconfirmed": lambda: (
                _("Minbar cannot tell whether a post went out on %(channel)s") % {"channel": label}
            ),
        }
        notify(
            list(users.values()),
            kind=f"publishing.{kind}",
            workspace=workspace,
            title=titles[kind],
            body=lambda: " ".join(
                part
                for part in (
                    reason,
                    _(
                        "Open the post in Minbar to see what happened, then try it again now "
                        "or give it a new time."
                    ),
                )
                if part
            ),
            url=post_url(target),
        )
    except Exception:
        logger.exception("could not notify people about target %s", target_id)


# -- claiming ---------------------------------------------------------------------------


def due_targets(moment: datetime) -> QuerySet[Target]:
    """Scheduled, due (a null due time is "now"), and not waiting for a retry or a window."""
    return Target.objects.filter(state=TargetState.SCHEDULED).filter(
        Q(due_at__isnull=True) | Q(due_at__lte=moment),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment),
    )


def _units(target: Target) -> int:
    return 1 + len(target.effective_thread)


def _too_late(target: Target, moment: datetime) -> bool:
    cutoff = late_cutoff()
    return cutoff is not None and target.due_at is not None and moment - target.due_at > cutoff


@dataclass
class _Pass:
    """One thread's view of a pass: channels seen busy (briefly) and people to tell."""

    worker: str
    busy: dict[int, float] = field(default_factory=dict)
    rules: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    def busy_channels(self) -> list[int]:
        # Forget quickly: the other worker's post is usually out within a second.
        cutoff = time.monotonic() - 0.5
        self.busy = {cid: at for cid, at in self.busy.items() if at > cutoff}
        return list(self.busy)

    def mark_busy(self, channel_id: int) -> None:
        self.busy[channel_id] = time.monotonic()

    def rules_for(self, channel: Channel) -> tuple[Any, ...]:
        if channel.pk not in self.rules:
            self.rules[channel.pk] = limits.publish_rules(limits.capabilities_of(channel))
        return self.rules[channel.pk]


def _still_due(moment: datetime) -> Q:
    """The target has not been given a later time since it was found due."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment)


def _hold(target: Target, message: str, data: dict[str, Any], moment: datetime) -> bool:
    return _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.SCHEDULED,),
        to_state=TargetState.HELD,
        kind="target.held",
        message=message,
        changes={"next_attempt_at": None, **_error_fields("held", message)},
        data=data,
        condition=_still_due(moment),
    )


def _hold_late(target: Target, moment: datetime) -> bool:
    channel = target.channel
    assert target.due_at is not None
    message = _(
        "It was due at %(due)s, but Minbar could only publish it at %(now)s, more than "
        "%(late)s late, so it was held instead of going out at the wrong time. "
        "Publish it now or pick a new time."
    ) % {
        "due": _when(target.due_at, channel),
        "now": _when(moment, channel),
        "late": cutoff_words(),
    }
    return _hold(target, message, {"reason": "late", "due_at": target.due_at.isoformat()}, moment)


def _fail_unconnected(target: Target, moment: datetime) -> bool:
    """The channel is known to need a reconnect: fail without a call that cannot work."""
    channel = target.channel
    message = _("%(channel)s needs reconnecting before Minbar can publish to it: %(reason)s") % {
        "channel": _label(channel),
        "reason": channel.health_message,
    }
    return _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.SCHEDULED,),
        to_state=TargetState.FAILED,
        kind="target.failed",
        message=message,
        changes=_error_fields("auth_expired", message),
        data={"reason": "needs_reconnect"},
        condition=_still_due(moment),
    )


def _claim_next(run: _Pass, notices: list[tuple[int, str]]) -> Target | None:
    """Claim one due target for ``run.worker``, settling the ones that cannot go on the way.

    The claim transaction locks target rows only (and, on PostgreSQL, the
    channel's advisory lock while the limits are checked). What else a found
    target needs — held, failed, waiting for a window, the post's new state — is
    written right after, by transitions that lock the post first.
    """
    postgres = connection.vendor == "postgresql"
    while True:
        moment = now()
        decision = ""
        verdict = limits.Verdict()
        claimed = False
        with transaction.atomic():
            candidates = (
                due_targets(moment)
                .exclude(channel_id__in=run.busy_channels())
                .select_related("post", "channel__workspace")
                # Credentials are decrypted only when used: one channel whose secrets
                # cannot be read fails its own posts instead of stopping every pass.
                .defer("channel__credentials_blob")
                .order_by(F("due_at").asc(nulls_first=True), "id")
            )
            if postgres:
                # Rows another worker is deciding about are skipped, not waited for.
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            target = candidates.first()
            if target is None:
                return None
            channel = target.channel
            if _too_late(target, moment):
                decision = "late"
            elif channel.health == Health.NEEDS_RECONNECT:
                decision = "unconnected"
            else:
                rules = run.rules_for(channel)
                units = _units(target)
                limits.lock(channel, rules)
                verdict = limits.check(channel, units, moment, rules)
                if verdict.busy:
                    run.busy[channel.pk] = time.monotonic()
                    continue
                if verdict.wait_until is not None:
                    decision = "wait"
                else:
                    # SQLite: the conditional UPDATE is the claim (rowcount 1 = ours).
                    # PostgreSQL: the row is already locked for us; same statement.
                    claimed = (
                        Target.objects.filter(pk=target.pk, state=TargetState.SCHEDULED).update(
                            state=TargetState.PUBLISHING,
                            claimed_by=run.worker,
                            claimed_at=moment,
                            attempts=F("attempts") + 1,
                            limit_units=units,
                            next_attempt_at=None,
                            updated_at=moment,
                        )
                        == 1
                    )
                    if claimed:
                        target.state, target.claimed_by = TargetState.PUBLISHING, run.worker
                        target.claimed_at, target.attempts = moment, target.attempts + 1
                        target.limit_units, target.next_attempt_at = units, None
                        PostEvent.objects.create(
                            post_id=target.post_id,
                            target_id=target.pk,
                            kind="target.claimed",
                            from_state=TargetState.SCHEDULED,
                            to_state=TargetState.PUBLISHING,
                            message=_("Publishing (attempt %(attempt)s).")
                            % {"attempt": target.attempts},
                            data={"worker": run.worker, "attempt": target.attempts},
                        )
        if claimed:
            with transaction.atomic():
                refresh_post_state(target.post_id)
            return target
        if decision == "late":
            if _hold_late(target, moment):
                notices.append((target.pk, "held"))
        elif decision == "unconnected":
            if _fail_unconnected(target, moment):
                notices.append((target.pk, "failed"))
        elif decision == "wait" and _wait_for_limit(target, verdict, moment):
            notices.append((target.pk, "held"))


def _wait_for_limit(target: Target, verdict: limits.Verdict, moment: datetime) -> bool:
    """Make the target wait for a posting limit's window; hold it if that is too late.

    Returns True when it was held (someone must be told).
    """
    channel = target.channel
    assert verdict.wait_until is not None
    cutoff = late_cutoff()
    due = target.due_at or moment
    rule = verdict.rule
    values: dict[str, object]
    data: dict[str, Any]
    if rule is not None:
        values = {
            "network": limits.capabilities_of(channel).label,
            "allowance": limits.describe_allowance(rule.limit, rule.window_seconds),
            "time": _when(verdict.wait_until, channel),
            "late": cutoff_words(),
        }
        data = {"limit": rule.limit, "window_seconds": rule.window_seconds}
    else:
        values = {"network": _label(channel), "time": _when(verdict.wait_until, channel)}
        data = {"network_asked": True}
    data["until"] = verdict.wait_until.isoformat()
    if cutoff is not None and verdict.wait_until - due > cutoff and rule is not None:
        message = (
            _(
                "%(network)s allows %(allowance)s on this account; the earliest "
                "this post could go out is %(time)s, more than %(late)s late, so it "
                "was held. Publish it now or pick a new time."
            )
            % values
        )
        return _hold(target, message, {"reason": "limit", **data}, moment)
    if rule is not None:
        message = (
            _("%(network)s allows %(allowance)s on this account; this post waits until %(time)s.")
            % values
        )
        kind = "limit"
    else:
        message = _("%(network)s asked Minbar to slow down; this post waits until %(time)s.") % (
            values
        )
        kind = "rate_limited"
    # Stays scheduled: only the time it may be claimed moves.
    _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.SCHEDULED,),
        to_state=TargetState.SCHEDULED,
        kind="target.waiting",
        message=message,
        changes={"next_attempt_at": verdict.wait_until, **_error_fields(kind, message)},
        data=data,
        condition=_still_due(moment),
    )
    return False


# -- publishing one claimed target ---------------------------------------------------------


def build_request(target: Target) -> PostRequest:
    """What the connector sends: the target's effective content and its idempotency key.

    Links in it are tracked short links unless the post or workspace turned that off.
    Media is prepared for the channel by ``target_media`` (converted, resized, cached).
    """
    from minbar.links.autolink import tracked_request
    from minbar.publishing.target_media import media_items

    media = media_items(target)
    options = {str(k): str(v) for k, v in (target.options or {}).items()}
    request = PostRequest(
        text=target.effective_text,
        media=tuple(media),
        link=target.effective_link,
        thread=tuple(str(part) for part in target.effective_thread),
        first_comment=target.effective_first_comment,
        visibility=options.pop(VISIBILITY, ""),
        content_warning=options.pop(CONTENT_WARNING, ""),
        options=options,
        idempotency_key=target.idempotency_key,
    )
    # Links become the channel's tracked short links (minbar.links.autolink).
    return tracked_request(target, request)


def _connector(channel: Channel) -> Any:
    from minbar.channels.actions import connector_for

    connector = connector_for(channel)
    connector.timeout = call_timeout()
    return connector


def published_changes(result: PublishResult, moment: datetime) -> dict[str, Any]:
    return {
        "remote_id": result.remote_id[:300],
        "remote_url": (result.url or "")[:1000],
        "thread_remote_ids": list(result.thread_ids),
        "published_at": result.published_at or moment,
        "next_attempt_at": None,
        **_error_fields("", ""),
    }


@dataclass
class _Published:
    """A post the network accepted, waiting to be recorded with others (group commit)."""

    target: Target
    worker: str
    result: PublishResult
    done: bool = False


class _GroupCommit:
    """Publishing threads record their published posts together, one transaction per group.

    A thread adds its post to the pending list and waits for the writer's turn;
    whoever gets the turn records every post pending at that moment in one write
    transaction (:func:`_record_published_many`). While one group commits, the
    next one gathers, so under load each post costs a share of a transaction
    instead of a whole one; alone, a post is recorded at once. A post that cannot
    be recorded with its group (it was reaped meanwhile, the group failed) goes
    through the one-by-one path, which knows every corner case.
    """

    def __init__(self) -> None:
        self._pending: list[_Published] = []
        self._pending_lock = threading.Lock()
        self._turn = threading.Lock()

    def record(self, target: Target, worker: str, result: PublishResult) -> None:
        item = _Published(target, worker, result)
        with self._pending_lock:
            self._pending.append(item)
        with self._turn:
            if item.done:
                return
            with self._pending_lock:
                group, self._pending = self._pending, []
            try:
                recorded = _record_published_many(group)
            except Exception:
                logger.exception("could not record %s published posts together", len(group))
                recorded = set()
            for member in group:
                if member.target.pk not in recorded and member is not item:
                    # Recorded by its own thread, below, when that thread gets the turn.
                    with self._pending_lock:
                        self._pending.append(member)
                member.done = member.target.pk in recorded
        if not item.done:
            item.done = True
            _record_published(target, worker, result)


_group_commit = _GroupCommit()


def _record_published_many(group: list[_Published]) -> set[int]:
    """Record published targets still claimed by their workers, in one write transaction.

    Returns the ids recorded. Locks are taken posts first, then targets, as in
    :func:`_transition`; webhooks see each new PostEvent as if saved one by one.
    """
    if not group:
        return set()
    moment = now()
    by_pk = {item.target.pk: item for item in group}
    post_ids = sorted({item.target.post_id for item in group})
    target_ids = sorted(by_pk)
    # Plain SQL (core.plainsql): this runs for every post published, and building
    # the ORM's queries cost more than running them.
    with write_transaction():
        old_states: dict[int, str] = {
            pk: state
            for pk, state in plainsql.select(
                Post,
                f"id IN ({plainsql.placeholders(post_ids)}) ORDER BY id",
                post_ids,
                fields=("id", "state"),
                for_update=True,
            )
        }
        ours: set[int] = set()
        for pk, claimed_by in plainsql.select(
            Target,
            f"id IN ({plainsql.placeholders(target_ids)}) AND state = %s ORDER BY id",
            [*target_ids, str(TargetState.PUBLISHING)],
            fields=("id", "claimed_by"),
            for_update=True,
        ):
            if claimed_by == by_pk[pk].worker and by_pk[pk].target.post_id in old_states:
                ours.add(pk)
        if not ours:
            return set()
        recorded = [by_pk[pk] for pk in sorted(ours)]
        names: tuple[str, ...] = ()
        events: list[PostEvent] = []
        for item in recorded:
            changes = {
                "state": TargetState.PUBLISHED,
                "updated_at": moment,
                **published_changes(item.result, moment),
            }
            names = tuple(changes)
            for name, value in changes.items():
                setattr(item.target, name, value)
            events.append(
                PostEvent(
                    post_id=item.target.post_id,
                    target_id=item.target.pk,
                    kind="target.published",
                    from_state=TargetState.PUBLISHING,
                    to_state=TargetState.PUBLISHED,
                    message=_("Published on %(channel)s.")
                    % {"channel": _label(item.target.channel)},
                    data={
                        "remote_id": item.result.remote_id,
                        "url": item.result.url,
                        "worker": item.worker,
                    },
                )
            )
        # One statement each for the whole group: the database parses and plans
        # every statement it is sent, which was most of its CPU per post.
        plainsql.update_many([item.target for item in recorded], names)
        plainsql.insert_many(events)
        for event in events:
            # Listeners (webhooks) store their rows in this same transaction.
            post_save.send(
                sender=PostEvent,
                instance=event,
                created=True,
                raw=False,
                using="default",
                update_fields=None,
            )
        _refresh_post_states({by_pk[pk].target.post_id for pk in ours}, old_states)
    return ours


def _refresh_post_states(post_ids: set[int], old_states: dict[int, str]) -> None:
    """:func:`refresh_post_state` for many locked posts: one read, one update per new state."""
    ids = sorted(post_ids)
    skipped = [TargetState.CANCELLED, TargetState.DRAFT, TargetState.AWAITING_APPROVAL]
    rows = plainsql.select(
        Target,
        f"post_id IN ({plainsql.placeholders(ids)}) "
        f"AND state NOT IN ({plainsql.placeholders(skipped)})",
        [*ids, *(str(state) for state in skipped)],
        fields=("post_id", "state", "next_attempt_at"),
    )
    states: dict[int, list[tuple[str, datetime | None]]] = {}
    for post_id, state, at in rows:
        states.setdefault(post_id, []).append((state, at))
    changes: dict[str, list[int]] = {}
    for post_id in ids:
        new = _aggregate_state(states.get(post_id, []))
        if new is not None and new != old_states.get(post_id):
            changes.setdefault(new, []).append(post_id)
    if not changes:
        return
    with connection.cursor() as cursor:
        for new, changed in changes.items():
            cursor.execute(
                f"UPDATE {plainsql.table(Post)} SET state = %s "  # noqa: S608 - a model's table; values bound
                f"WHERE id IN ({plainsql.placeholders(changed)})",
                [str(new), *changed],
            )


def _record_published(target: Target, worker: str, result: PublishResult) -> None:
    channel = target.channel
    changes = published_changes(result, now())
    data = {"remote_id": result.remote_id, "url": result.url, "worker": worker}
    message = _("Published on %(channel)s.") % {"channel": _label(channel)}
    if _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.PUBLISHING,),
        to_state=TargetState.PUBLISHED,
        kind="target.published",
        message=message,
        changes=changes,
        data=data,
        claimed_by=worker,
    ):
        return
    # The reaper presumed this worker dead while it was still waiting for the
    # network. The post is out: record it, unless another worker has claimed the
    # target since (it sends the same idempotency key, and the network answers
    # with this very post).
    late = _("Published on %(channel)s (the worker finished after it had been presumed lost).") % {
        "channel": _label(channel)
    }
    if not _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.UNCONFIRMED, TargetState.SCHEDULED),
        to_state=TargetState.PUBLISHED,
        kind="target.published",
        message=late,
        changes=changes,
        data=data,
        claimed_by=worker,
    ):
        logger.warning(
            "target %s was published as %s but another worker owns it now",
            target.pk,
            result.remote_id,
        )


def _retry_or_hold(
    target: Target,
    worker: str,
    *,
    at: datetime,
    kind: str,
    message: str,
    error: ConnectorError,
    attempts_change: int = 0,
) -> str:
    """Back to scheduled for ``at``, or held when ``at`` is past the late cutoff."""
    channel = target.channel
    cutoff = late_cutoff()
    due = target.due_at or target.claimed_at or now()
    fields = _error_fields(error.kind, error.message, error.detail)
    data = {"error": error.kind, "status": error.status, "next_attempt_at": at.isoformat()}
    if cutoff is not None and at - due > cutoff:
        held = _(
            "%(reason)s The next try would be at %(time)s, more than %(late)s late, "
            "so it was held instead. Publish it now or pick a new time."
        ) % {
            "reason": error.message,
            "time": _when(at, channel),
            "late": cutoff_words(),
        }
        if _transition(
            target.pk,
            post_id=target.post_id,
            from_states=(TargetState.PUBLISHING,),
            to_state=TargetState.HELD,
            kind="target.held",
            message=held,
            changes={**fields, "last_error_message": held, "next_attempt_at": None},
            data={**data, "reason": "late"},
            claimed_by=worker,
        ):
            return "held"
        return "lost"
    changes: dict[str, Any] = {**fields, "next_attempt_at": at}
    if attempts_change:
        changes["attempts"] = F("attempts") + attempts_change
    _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.PUBLISHING,),
        to_state=TargetState.SCHEDULED,
        kind=kind,
        message=message,
        changes=changes,
        data=data,
        claimed_by=worker,
    )
    return "retry"


def _fail(target: Target, worker: str | None, error: ConnectorError, message: str) -> bool:
    return _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.PUBLISHING,),
        to_state=TargetState.FAILED,
        kind="target.failed",
        message=message,
        changes={**_error_fields(error.kind, message, error.detail), "next_attempt_at": None},
        data={"error": error.kind, "status": error.status},
        claimed_by=worker,
    )


def publish_claimed(
    target: Target,
    worker: str,
    notices: list[tuple[int, str]],
    *,
    connector_for: Callable[[Channel], Any] | None = None,
) -> str:
    """Publish one target this worker has claimed and record what happened.

    Returns the outcome: published, retry, failed, held, unconfirmed or lost
    (someone else moved the target meanwhile). ``connector_for`` lets a pass
    reuse one connector per channel (default: a new one).
    """
    from minbar.channels.actions import note_failure, note_success

    channel = target.channel
    label = _label(channel)
    try:
        connector = (connector_for or _connector)(channel)
        request = build_request(target)
    except Exception as exc:
        # Nothing was sent: say so and stop, rather than retrying a bug.
        logger.exception("could not prepare target %s", target.pk)
        error = exc if isinstance(exc, ConnectorError) else ConnectorError(str(exc))
        message = _("Minbar could not prepare the post for %(channel)s: %(reason)s") % {
            "channel": label,
            "reason": error.message,
        }
        if _fail(target, worker, error, message):
            notices.append((target.pk, "failed"))
            return "failed"
        return "lost"
    try:
        result = connector.publish(request)
    except RateLimited as exc:
        # Not an attempt that counts: the network refused to look at it yet.
        note_failure(channel, exc)
        wait = exc.retry_after + random.uniform(0, min(5.0, exc.retry_after * 0.1))
        at = now() + timedelta(seconds=wait)
        message = _("%(reason)s Minbar will try again at %(time)s.") % {
            "reason": exc.message,
            "time": _when(at, channel),
        }
        outcome = _retry_or_hold(
            target,
            worker,
            at=at,
            kind="target.rate_limited",
            message=message,
            error=exc,
            attempts_change=-1,
        )
    except TemporaryError as exc:
        if target.attempts >= max_attempts():
            message = ngettext(
                "Minbar gave up after %(attempts)s attempt. The last answer: %(reason)s",
                "Minbar gave up after %(attempts)s attempts. The last answer: %(reason)s",
                target.attempts,
            ) % {
                "attempts": target.attempts,
                "reason": exc.message,
            }
            outcome = "failed" if _fail(target, worker, exc, message) else "lost"
        else:
            at = now() + retry_delay(target.attempts)
            message = _(
                "Attempt %(attempt)s of %(max)s did not go through: %(reason)s "
                "Minbar will try again at %(time)s."
            ) % {
                "attempt": target.attempts,
                "max": max_attempts(),
                "reason": exc.message,
                "time": _when(at, channel),
            }
            outcome = _retry_or_hold(
                target, worker, at=at, kind="target.retry", message=message, error=exc
            )
    except AuthExpired as exc:
        note_failure(channel, exc)
        message = _("%(reason)s Reconnect the channel, then publish the post again.") % {
            "reason": exc.message
        }
        outcome = "failed" if _fail(target, worker, exc, message) else "lost"
    except OutcomeUnknown as exc:
        outcome = _unconfirmed(target, worker, exc)
    except ConnectorError as exc:
        # Rejected, NotSupported, or anything else the network said no to for good.
        outcome = "failed" if _fail(target, worker, exc, exc.message) else "lost"
    except Exception as exc:
        # A bug after the request may have left: the post may be out. Never re-send
        # blindly — let reconciliation find out.
        logger.exception("unexpected error publishing target %s", target.pk)
        outcome = _unconfirmed(target, worker, OutcomeUnknown(str(exc) or type(exc).__name__))
    else:
        _group_commit.record(target, worker, result)
        if (
            channel.health != Health.CONNECTED
            or channel.last_ok_at is None
            or now() - channel.last_ok_at > timedelta(minutes=1)
        ):
            note_success(channel)
        return "published"
    if outcome in ("failed", "held"):
        notices.append((target.pk, outcome))
    return outcome


def _unconfirmed(target: Target, worker: str, error: OutcomeUnknown) -> str:
    message = _(
        "Minbar cannot tell whether the post went out (%(reason)s). It will ask the network "
        "before doing anything else."
    ) % {"reason": error.message}
    moved = _transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.PUBLISHING,),
        to_state=TargetState.UNCONFIRMED,
        kind="target.unconfirmed",
        message=message,
        changes={
            **_error_fields(error.kind, error.message, error.detail),
            "next_attempt_at": now() + reconcile_delay(),
        },
        data={"error": error.kind, "status": error.status},
        claimed_by=worker,
    )
    return "unconfirmed" if moved else "lost"


# -- passes ------------------------------------------------------------------------------


_pass_numbers = itertools.count()


def dispatch_due(worker_id: str | None = None, *, threads: int | None = None) -> int:
    """One pass: reap, reconcile, then claim and publish everything due. Returns targets handled.

    ``threads`` (default ``MINBAR_PUBLISH_THREADS``, 16) publish in parallel —
    network calls wait, they do not compute — fed by batch claims
    (:mod:`minbar.publishing.pipeline`). Inside a transaction (a test, a
    caller's ``atomic``) the pass runs in the calling thread, because other
    threads could not see the uncommitted rows.
    """
    from minbar.publishing.pipeline import run_pass

    reap_stale()
    reconcile_unconfirmed()
    count = publish_threads() if threads is None else max(1, threads)
    # Unique per pass: two passes of one process (two queue workers) never share a name.
    worker = worker_id or worker_name(f"p{next(_pass_numbers)}")
    return run_pass(worker, count)


def reap_stale() -> int:
    """Targets left ``publishing`` by a dead worker become ``unconfirmed``; returns how many."""
    from minbar.publishing.reconcile import reap

    return reap()


def reconcile_unconfirmed(limit: int = 100) -> int:
    """Settle unconfirmed targets with the connector's lookup; returns how many were settled."""
    from minbar.publishing.reconcile import reconcile

    return reconcile(limit=limit)


def next_wake_at(moment: datetime | None = None) -> datetime | None:
    """When a pass next has something to do: a due time, a retry, a lookup, a lease to reap."""
    moment = moment or now()
    soon = moment + timedelta(seconds=1)
    scheduled = Target.objects.filter(state=TargetState.SCHEDULED)
    times: list[datetime] = []
    if due_targets(moment).exists():
        times.append(soon)  # left by a pass (a busy channel): look again shortly
    times += [
        value
        for value in (
            scheduled.filter(next_attempt_at__gt=moment).aggregate(m=Min("next_attempt_at"))["m"],
            scheduled.filter(due_at__gt=moment)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=F("due_at")))
            .aggregate(m=Min("due_at"))["m"],
            Target.objects.filter(
                state=TargetState.UNCONFIRMED, next_attempt_at__isnull=False
            ).aggregate(m=Min("next_attempt_at"))["m"],
        )
        if value is not None
    ]
    for claimed_by, claimed_at in Target.objects.filter(
        state=TargetState.PUBLISHING, claimed_at__isnull=False
    ).values_list("claimed_by", "claimed_at"):
        if claimed_at is None:
            continue
        limit = dead_worker_grace() if claimer_is_dead(claimed_by) else lease()
        times.append(claimed_at + limit)
    if not times:
        return None
    first = min(times)
    return first if first > moment else soon


# -- what people (and the lead's actions) call --------------------------------------------


def kick() -> None:
    """Make the dispatcher look now (after the current transaction commits).

    Call it after scheduling "publish now" or changing a due time; the queue runs
    a pass as soon as a worker is free. Without it the per-minute pass (and the
    wake-up the last pass planned) still finds the target.
    """
    from minbar.publishing.tasks import dispatch_soon

    def enqueue() -> None:
        try:
            dispatch_soon()
        except Exception:
            # The queue being down must not undo what the caller committed;
            # the per-minute pass picks the work up.
            logger.warning("could not enqueue a dispatcher pass", exc_info=True)

    transaction.on_commit(enqueue)


RETRYABLE_STATES = (TargetState.FAILED, TargetState.HELD, TargetState.UNCONFIRMED)


def retry_target(target: Target, *, actor: User | None = None) -> Target:
    """A person's "publish it now": a failed, held or unconfirmed target goes out again.

    Attempts start again from zero and the due time becomes now (so the late
    cutoff counts from now). For an unconfirmed target this is the person's
    decision that the post is not on the network.
    """
    moment = now()
    moved = _transition(
        target.pk,
        post_id=target.post_id,
        from_states=RETRYABLE_STATES,
        to_state=TargetState.SCHEDULED,
        kind="target.retried",
        message=_("Scheduled again by a person, to go out now."),
        changes={
            "due_at": moment,
            "next_attempt_at": None,
            "attempts": 0,
            "claimed_by": "",
            **_error_fields("", ""),
        },
        actor=actor,
    )
    if not moved:
        raise Conflict(_("Only a failed, held or unconfirmed post can be tried again."))
    kick()
    target.refresh_from_db()
    return target
