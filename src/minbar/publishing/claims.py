"""Claiming due targets in batches: one transaction hands a worker several targets.

Claiming one target at a time costs a transaction and about eight queries per
post (find it, lock its channel, count the channel's posts in flight, sum each
posting limit's window, claim, write the event, refresh the post). A batch does
the same work once for up to ``want`` targets:

1. the due targets are read in due order (PostgreSQL: ``FOR UPDATE SKIP
   LOCKED``, so rows another worker is deciding about are skipped, not waited for);
2. on PostgreSQL the advisory locks of every channel (and shared network limit)
   among them are taken in one sorted order — the same order
   :func:`minbar.publishing.limits.lock` uses, so batches and single claims never
   wait on each other in a cycle; on SQLite the ``BEGIN IMMEDIATE`` transaction
   already runs alone;
3. the posts in flight per channel and each posting limit's usage are counted
   with one grouped query each, and the batch's own picks are added as it goes,
   so the per-channel concurrency cap and the shared limits hold inside a batch
   exactly as they do between workers;
4. the chosen targets are claimed with one conditional ``UPDATE … WHERE
   state='scheduled'`` per limit-unit size and their history events written in
   one insert. The post rows are brought up to date right after, in their own
   short transaction that locks posts only (posts are always locked before
   targets elsewhere, so the claim transaction must not lock them).

What cannot go on the way (too late, a channel to reconnect, a posting limit's
window) is settled after the transaction by the same transitions as a single
claim (``dispatcher._hold_late`` and friends), one target at a time: those are
rare, and each tells people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from minbar.channels.models import Channel, Health
from minbar.connectors.types import RateLimitRule
from minbar.core import plainsql
from minbar.core.crypto import DecryptionError, EncryptedTextField
from minbar.core.writes import write_transaction
from minbar.publishing import limits
from minbar.publishing.models import Post, PostEvent, PostState, Target, TargetState
from minbar.workspaces.models import Workspace

if TYPE_CHECKING:
    from minbar.publishing.dispatcher import _Pass

# Rows read per target wanted: several due targets often share a channel that can
# take only one of them now. Each row read costs three model instances (target,
# post, channel); 4 rows a target cost 8 % more of Minbar's CPU per post than 2 in
# bench/publishing.py's burst, and a batch that finds too few looks further.
READ_AHEAD = 2


@dataclass(frozen=True)
class _Settle:
    """A target found due that does not go on the way now, and why."""

    decision: str  # "late", "unconnected" or "wait"
    target: Target
    verdict: limits.Verdict


def _lock_keys(channels: Collection[Channel], rules: dict[int, tuple[RateLimitRule, ...]]) -> None:
    """The advisory locks of :func:`limits.lock` for many channels, in one sorted order."""
    if connection.vendor != "postgresql" or not channels:
        return
    keys: set[str] = set()
    for channel in channels:
        keys.add(f"minbar.publish.channel.{channel.pk}")
        if any(rule.scope != "account" for rule in rules[channel.pk]):
            keys.add(f"minbar.publish.network.{channel.network}.{channel.server_url}")
    with connection.cursor() as cursor:
        # One round trip; the inner ORDER BY fixes the order the locks are taken in.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
            "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys",
            [sorted(keys)],
        )


class _Usage:
    """Posting-limit usage of the batch's channels: counted once, then kept up to date."""

    def __init__(
        self,
        channels: dict[int, Channel],
        rules: dict[int, tuple[RateLimitRule, ...]],
        moment: datetime,
    ) -> None:
        self.used: dict[tuple[Any, ...], int] = {}
        sent = Target.objects.filter(state__in=limits.COUNTED_STATES).order_by()
        windows = {rule.window_seconds for ids in rules.values() for rule in ids}
        for window in sorted(windows):
            since = moment - timedelta(seconds=window)
            mine = [
                pk
                for pk, channel_rules in rules.items()
                if any(r.scope == "account" and r.window_seconds == window for r in channel_rules)
            ]
            if mine:
                for pk in mine:
                    self.used[("account", pk, window)] = 0
                for pk, total in _units_sent(mine, since):
                    self.used[("account", pk, window)] = total or 0
            shared = {
                (channels[pk].network, channels[pk].server_url)
                for pk, channel_rules in rules.items()
                if any(r.scope != "account" and r.window_seconds == window for r in channel_rules)
            }
            for network, server_url in sorted(shared):
                total = sent.filter(
                    channel__network=network, channel__server_url=server_url, claimed_at__gt=since
                ).aggregate(total=Sum("limit_units"))["total"]
                self.used[("shared", network, server_url, window)] = total or 0

    @staticmethod
    def _key(channel: Channel, rule: RateLimitRule) -> tuple[Any, ...]:
        if rule.scope == "account":
            return ("account", channel.pk, rule.window_seconds)
        return ("shared", channel.network, channel.server_url, rule.window_seconds)

    def fits(self, channel: Channel, rules: tuple[RateLimitRule, ...], units: int) -> bool:
        """The same sum as :func:`limits.check`: ``used + units <= limit`` for every rule."""
        return all(
            self.used[self._key(channel, rule)] + min(max(1, units), rule.limit) <= rule.limit
            for rule in rules
        )

    def take(self, channel: Channel, rules: tuple[RateLimitRule, ...], units: int) -> None:
        for rule in rules:
            self.used[self._key(channel, rule)] += units


def _units_sent(channel_ids: list[int], since: datetime) -> list[tuple[int, int | None]]:
    """(channel, limit units claimed since ``since``) of targets that count against limits."""
    counted = [str(state) for state in limits.COUNTED_STATES]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT channel_id, SUM(limit_units) FROM {plainsql.table(Target)} "  # noqa: S608 - a model's table; values bound
            f"WHERE state IN ({plainsql.placeholders(counted)}) "
            f"AND channel_id IN ({plainsql.placeholders(channel_ids)}) AND claimed_at > %s "
            "GROUP BY channel_id",
            [*counted, *channel_ids, plainsql.param(Target, "claimed_at", since)],
        )
        return [(pk, total) for pk, total in cursor.fetchall()]


def _in_flight(channel_ids: Collection[int]) -> Counter[int]:
    ids = sorted(channel_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT channel_id, COUNT(*) FROM {plainsql.table(Target)} "  # noqa: S608 - a model's table; values bound
            f"WHERE channel_id IN ({plainsql.placeholders(ids)}) AND state = %s "
            "GROUP BY channel_id",
            [*ids, str(TargetState.PUBLISHING)],
        )
        return Counter({channel_id: count for channel_id, count in cursor.fetchall()})


def load_credentials(channels: Iterable[Channel]) -> None:
    """Read the credentials the claim left unread, for many channels in one query.

    A channel's limits and its connector both need them, once per pass; read one
    channel at a time (the deferred field's own query) they were a query per
    channel per pass.
    """
    waiting: dict[int, list[Channel]] = {}
    for channel in channels:
        if "credentials_blob" not in channel.__dict__:
            waiting.setdefault(channel.pk, []).append(channel)
    if not waiting:
        return
    ids = sorted(waiting)
    field = Channel._meta.get_field("credentials_blob")
    assert isinstance(field, EncryptedTextField)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, credentials_blob FROM {plainsql.table(Channel)} "  # noqa: S608 - a model's table; values bound
            f"WHERE id IN ({plainsql.placeholders(ids)})",
            ids,
        )
        rows = cursor.fetchall()
    for pk, stored in rows:
        try:
            blob = field.from_db_value(stored, None, connection)
        except DecryptionError:
            # Left unread: the channel's own read raises where it fails that channel
            # alone (its posts fail, everyone else's go out).
            continue
        for channel in waiting[pk]:
            channel.credentials_blob = blob


def _choose(
    run: _Pass, rows: list[Target], want: int, moment: datetime
) -> tuple[list[Target], list[_Settle]]:
    """Which of the due ``rows`` to claim now (in due order), and which to settle instead."""
    from minbar.publishing.dispatcher import _too_late, _units

    channels = {row.channel_id: row.channel for row in rows}
    load_credentials(channel for pk, channel in channels.items() if pk not in run.rules)
    rules = {pk: run.rules_for(channel) for pk, channel in channels.items()}
    _lock_keys(channels.values(), rules)
    flying = _in_flight(list(channels))
    usage = _Usage(channels, rules, moment)
    cap = limits.channel_concurrency()
    chosen: list[Target] = []
    settle: list[_Settle] = []
    taken: Counter[int] = Counter()
    for target in rows:
        if len(chosen) >= want:
            break
        channel = target.channel
        if _too_late(target, moment):
            settle.append(_Settle("late", target, limits.Verdict()))
            continue
        if channel.health == Health.NEEDS_RECONNECT:
            settle.append(_Settle("unconnected", target, limits.Verdict()))
            continue
        if channel.rate_limited_until is not None and channel.rate_limited_until > moment:
            verdict = limits.Verdict(wait_until=channel.rate_limited_until, network_asked=True)
            settle.append(_Settle("wait", target, verdict))
            continue
        if flying[channel.pk] + taken[channel.pk] >= cap:
            if not taken[channel.pk]:
                run.mark_busy(channel.pk)  # another worker's post is on its way there
            continue
        units = _units(target)
        if not usage.fits(channel, rules[channel.pk], units):
            if taken[channel.pk]:
                continue  # the window may be filled by this batch: look again next batch
            verdict = limits.check(channel, units, moment, rules[channel.pk])
            if verdict.wait_until is not None:
                settle.append(_Settle("wait", target, verdict))
            else:
                run.mark_busy(channel.pk)  # busy, or counted differently: look again soon
            continue
        usage.take(channel, rules[channel.pk], units)
        taken[channel.pk] += 1
        target.limit_units = units
        chosen.append(target)
    return chosen, settle


def _claim_rows(chosen: list[Target], worker: str, moment: datetime) -> list[Target]:
    """Claim the chosen targets (conditional UPDATEs); returns the ones that are now ours."""
    by_units: defaultdict[int, list[int]] = defaultdict(list)
    for target in chosen:
        by_units[target.limit_units].append(target.pk)
    updated = 0
    at = plainsql.param(Target, "claimed_at", moment)
    with connection.cursor() as cursor:
        for units, ids in by_units.items():
            cursor.execute(
                f"UPDATE {plainsql.table(Target)} SET state = %s, claimed_by = %s, "  # noqa: S608 - a model's table; values bound
                "claimed_at = %s, attempts = attempts + 1, limit_units = %s, "
                "next_attempt_at = NULL, updated_at = %s "
                f"WHERE id IN ({plainsql.placeholders(ids)}) AND state = %s",
                [
                    str(TargetState.PUBLISHING),
                    worker,
                    at,
                    units,
                    at,
                    *ids,
                    str(TargetState.SCHEDULED),
                ],
            )
            updated += cursor.rowcount
    if updated != len(chosen):
        # Not expected (the rows are locked, or the SQLite transaction runs alone),
        # but only rows that are certainly ours may be published.
        ours = set(
            Target.objects.filter(
                pk__in=[t.pk for t in chosen],
                state=TargetState.PUBLISHING,
                claimed_by=worker,
                claimed_at=moment,
            ).values_list("pk", flat=True)
        )
        chosen = [t for t in chosen if t.pk in ours]
    for target in chosen:
        target.state, target.claimed_by = TargetState.PUBLISHING, worker
        target.claimed_at, target.attempts = moment, target.attempts + 1
        target.next_attempt_at = None
    plainsql.insert_many(
        [
            PostEvent(
                post_id=target.post_id,
                target_id=target.pk,
                kind="target.claimed",
                from_state=TargetState.SCHEDULED,
                to_state=TargetState.PUBLISHING,
                message=_("Publishing (attempt %(attempt)s).") % {"attempt": target.attempts},
                data={"worker": worker, "attempt": target.attempts},
            )
            for target in chosen
        ]
    )
    return chosen


def mark_posts_publishing(post_ids: Collection[int]) -> int:
    """After a claim: what ``refresh_post_state`` would decide, for many posts at once.

    A post with a target on its way is ``publishing`` whatever its other targets
    are, so the post rows only need that state — if the claimed target is still
    on its way when the post's lock is held (it may already be published).
    """
    if not post_ids:
        return 0
    ids = sorted(set(post_ids))
    among = plainsql.placeholders(ids)
    with write_transaction():
        # Lock in id order, as every multi-post writer must, before touching them.
        plainsql.select(Post, f"id IN ({among}) ORDER BY id", ids, fields=("id",), for_update=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {plainsql.table(Post)} SET state = %s "  # noqa: S608 - models' tables; values bound
                f"WHERE id IN ({among}) AND state <> %s AND id IN ("
                f"SELECT post_id FROM {plainsql.table(Target)} "
                f"WHERE post_id IN ({among}) AND state = %s)",
                [
                    str(PostState.PUBLISHING),
                    *ids,
                    str(PostState.PUBLISHING),
                    *ids,
                    str(TargetState.PUBLISHING),
                ],
            )
            return int(cursor.rowcount)


def _due_rows(moment: datetime, skip: set[int], want: int) -> list[Target]:
    """Up to ``want * READ_AHEAD`` due targets in due order, with their posts and channels.

    What ``dispatcher.due_targets`` selects, read with plain SQL
    (:mod:`minbar.core.plainsql`): this runs for every batch, and building the
    joined QuerySet and its model instances was most of a batch's CPU. Posts,
    channels (their credentials left unread: decrypted only when used) and
    workspaces are read by id, once each however many targets share them.
    On PostgreSQL the targets are locked ``FOR UPDATE SKIP LOCKED``: rows another
    worker is deciding about are skipped, not waited for.
    """
    skipped = sorted(skip)
    params: list[Any] = [
        str(TargetState.SCHEDULED),
        plainsql.param(Target, "due_at", moment),
        plainsql.param(Target, "next_attempt_at", moment),
        *skipped,
        want * READ_AHEAD,
    ]
    nulls_first = " NULLS FIRST" if connection.features.supports_order_by_nulls_modifier else ""
    targets = plainsql.instances(
        Target,
        "state = %s AND (due_at IS NULL OR due_at <= %s) "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
        + (f" AND channel_id NOT IN ({plainsql.placeholders(skipped)})" if skipped else "")
        + f" ORDER BY due_at ASC{nulls_first}, id ASC LIMIT %s",
        params,
        skip_locked=True,
    )
    if not targets:
        return []
    posts = plainsql.by_id(Post, {t.post_id for t in targets})
    channels = plainsql.by_id(Channel, {t.channel_id for t in targets}, defer=("credentials_blob",))
    workspaces = plainsql.by_id(Workspace, {c.workspace_id for c in channels.values()})
    for channel in channels.values():
        channel.workspace = workspaces[channel.workspace_id]
    for target in targets:
        target.post = posts[target.post_id]
        target.channel = channels[target.channel_id]
    return targets


def claim_batch(
    run: _Pass,
    want: int,
    notices: list[tuple[int, str]],
    *,
    skip_channels: Collection[int] = (),
) -> list[Target]:
    """Claim up to ``want`` due targets for ``run.worker``; [] when nothing is claimable.

    ``skip_channels`` are channels the caller already has as many posts on the
    way to as the cap allows (no need to read their targets). Targets found due
    that cannot go now are settled (held, failed, waiting) and their people
    listed in ``notices``, as :func:`dispatcher._claim_next` does.
    """
    from minbar.publishing.dispatcher import _fail_unconnected, _hold_late, _wait_for_limit, now

    want = max(1, want)
    while True:
        moment = now()
        with write_transaction():
            rows = _due_rows(moment, set(skip_channels) | set(run.busy_channels()), want)
            if not rows:
                return []
            chosen, settle = _choose(run, rows, want, moment)
            claimed = _claim_rows(chosen, run.worker, moment) if chosen else []
        if claimed:
            mark_posts_publishing([t.post_id for t in claimed])
        for item in settle:
            if item.decision == "late":
                if _hold_late(item.target, moment):
                    notices.append((item.target.pk, "held"))
            elif item.decision == "unconnected":
                if _fail_unconnected(item.target, moment):
                    notices.append((item.target.pk, "failed"))
            elif _wait_for_limit(item.target, item.verdict, moment):
                notices.append((item.target.pk, "held"))
        if claimed:
            return claimed
        # Nothing claimed: every row read was busy elsewhere or settled; look further.
