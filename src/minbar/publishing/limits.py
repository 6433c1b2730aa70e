"""Posting limits and the per-channel concurrency cap, shared by every worker.

Nothing here is kept in a process: usage is counted from the targets in the
database, so two workers (threads, processes or machines) see the same numbers.
A limit is the connector's ``RateLimitRule`` with action ``"publish"`` (from
``account_capabilities()``, so a sandbox account gets its flavour's). Usage is a
*sliding* window, as the networks count it: the posts Minbar sent (claimed) in
the last ``window_seconds``, weighted by ``Target.limit_units`` (a thread of
three is three posts). Counting targets rather than keeping counters means a
failed attempt frees its place by itself and nothing has to be reset.

Rules with scope ``"account"`` count the channel's own posts; any other scope
(``"app"``, ``"ip"``) counts every channel of the same network and server, the
way a network counts an app's or an address's calls.

The caller holds the claim transaction; :func:`lock` serialises the check and the
claim per channel on PostgreSQL (advisory transaction locks). On SQLite every
write transaction is already serialised (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minbar.channels.models import Channel
from minbar.connectors.types import AuthKind, Capabilities, RateLimitRule, TextRules
from minbar.publishing.models import Target, TargetState

logger = logging.getLogger("minbar.publishing")

# Sent targets that count against a limit: on the network, on the way, or maybe there.
COUNTED_STATES = (TargetState.PUBLISHING, TargetState.PUBLISHED, TargetState.UNCONFIRMED)


def channel_concurrency() -> int:
    """How many posts may be on their way to one channel at once (all workers together).

    One by default: posts due at the same minute still go out in order, and
    networks treat parallel posting from one account as a bot's.
    """
    return max(1, int(getattr(settings, "MINBAR_PUBLISH_CHANNEL_CONCURRENCY", 1)))


def capabilities_of(channel: Channel) -> Capabilities:
    """The account's own capabilities; the network's general ones if they cannot be read.

    Never raises: a channel whose credentials cannot be decrypted, or whose network
    Minbar no longer knows, fails its own posts when they are published — it must
    not stop the dispatcher from getting to everyone else's.
    """
    from minbar.channels.actions import connector_class, connector_for

    try:
        return connector_for(channel).account_capabilities()
    except Exception:
        logger.warning("using %s's general limits for channel %s", channel.network, channel.pk)
    try:
        return connector_class(channel.network).capabilities
    except Exception:
        return Capabilities(
            network=channel.network,
            label=channel.network,
            auth=AuthKind.TOKEN,
            text=TextRules(max_length=0),
        )


def publish_rules(caps: Capabilities) -> tuple[RateLimitRule, ...]:
    return tuple(
        rule
        for rule in caps.rate_limits
        if rule.action == "publish" and rule.limit > 0 and rule.window_seconds > 0
    )


def _scoped(channel: Channel, rule: RateLimitRule) -> QuerySet[Target]:
    targets = Target.objects.all()
    if rule.scope == "account":
        return targets.filter(channel_id=channel.pk)
    return targets.filter(channel__network=channel.network, channel__server_url=channel.server_url)


def lock(channel: Channel, rules: tuple[RateLimitRule, ...]) -> None:
    """Serialise checks-and-claims for this channel (and its network's shared limits).

    PostgreSQL: transaction-level advisory locks, taken in a fixed order so two
    workers never wait on each other in a cycle. SQLite needs none: Minbar's
    SQLite transactions start with ``BEGIN IMMEDIATE`` and so run one at a time.
    """
    if connection.vendor != "postgresql":
        return
    keys = {f"minbar.publish.channel.{channel.pk}"}
    for rule in rules:
        if rule.scope != "account":
            keys.add(f"minbar.publish.network.{channel.network}.{channel.server_url}")
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


@dataclass(frozen=True)
class Verdict:
    """What the limits say about sending one more target now."""

    busy: bool = False  # the channel is at its concurrency cap: another worker is on it
    wait_until: datetime | None = None  # a posting limit (or the network) says not before
    rule: RateLimitRule | None = None  # the posting limit that made it wait
    network_asked: bool = False  # the network itself said to slow down (a 429)

    @property
    def ok(self) -> bool:
        return not self.busy and self.wait_until is None


def check(
    channel: Channel,
    units: int,
    now: datetime,
    rules: tuple[RateLimitRule, ...],
    *,
    exclude_target: int | None = None,
) -> Verdict:
    """May one more target of ``units`` posts go to ``channel`` now? Call under :func:`lock`."""
    if channel.rate_limited_until is not None and channel.rate_limited_until > now:
        return Verdict(wait_until=channel.rate_limited_until, network_asked=True)
    in_flight = Target.objects.filter(channel_id=channel.pk, state=TargetState.PUBLISHING)
    if exclude_target is not None:
        in_flight = in_flight.exclude(pk=exclude_target)
    if in_flight.count() >= channel_concurrency():
        return Verdict(busy=True)
    latest: Verdict | None = None
    for rule in rules:
        frees_at = _frees_at(channel, rule, units, now, exclude_target)
        if frees_at is not None and (latest is None or frees_at > (latest.wait_until or now)):
            latest = Verdict(wait_until=frees_at, rule=rule)
    return latest or Verdict()


def _frees_at(
    channel: Channel,
    rule: RateLimitRule,
    units: int,
    now: datetime,
    exclude_target: int | None,
) -> datetime | None:
    """None when ``units`` more fit in the window now, else when enough will have aged out."""
    window = timedelta(seconds=rule.window_seconds)
    # A thread longer than the limit could never fit; let it go when the window is empty.
    units = min(max(1, units), rule.limit)
    sent = _scoped(channel, rule).filter(state__in=COUNTED_STATES, claimed_at__gt=now - window)
    if exclude_target is not None:
        sent = sent.exclude(pk=exclude_target)
    used = sent.aggregate(total=Sum("limit_units"))["total"] or 0
    if used + units <= rule.limit:
        return None
    excess, freed = used + units - rule.limit, 0
    for claimed_at, weight in sent.order_by("claimed_at").values_list("claimed_at", "limit_units"):
        freed += weight
        if freed >= excess and claimed_at is not None:
            return max(claimed_at + window, now)
    return now + window  # not reached: the rows summed to ``used``


# -- telling the composer at scheduling time -----------------------------------------------


def describe_window(seconds: int) -> str:
    """A window in words: "15 minutes", "3 hours", "24 hours", "7 days"."""
    if seconds % 86400 == 0 and seconds > 2 * 86400:
        days = seconds // 86400
        return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
    return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}


def describe_allowance(limit: int, window_seconds: int) -> str:
    """A posting limit in words: "50 posts in 15 minutes" (plural forms per language)."""
    return ngettext("%(count)s post in %(window)s", "%(count)s posts in %(window)s", limit) % {
        "count": limit,
        "window": describe_window(window_seconds),
    }


def _local(moment: datetime, channel: Channel) -> str:
    try:
        zone = ZoneInfo(channel.workspace.time_zone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return str(formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT"))


def limit_warnings(
    channel: Channel,
    times: list[datetime],
    *,
    exclude_post: int | None = None,
    units: int = 1,
) -> list[str]:
    """Warnings for a plan of posting ``times`` on ``channel`` that a posting limit would break.

    Counted with what is already sent and scheduled on the channel (or, for a
    network-wide limit, on every channel of that network); ``exclude_post``
    leaves out a post being rescheduled so it is not counted twice. One warning
    per limit, naming the busiest stretch. An empty list means the plan fits —
    posts over a limit are not lost anyway: they wait for the window (or are held
    when that would make them too late).
    """
    if not times:
        return []
    caps = capabilities_of(channel)
    rules = publish_rules(caps)
    warnings: list[str] = []
    for rule in rules:
        window = timedelta(seconds=rule.window_seconds)
        start, end = min(times) - window, max(times) + window
        moments: list[tuple[datetime, int]] = [(t, max(1, units)) for t in times]
        scoped = _scoped(channel, rule)
        if exclude_post is not None:
            scoped = scoped.exclude(post_id=exclude_post)
        sent = scoped.filter(state__in=COUNTED_STATES, claimed_at__gt=start, claimed_at__lt=end)
        moments += [
            (at, weight)
            for at, weight in sent.values_list("claimed_at", "limit_units")
            if at is not None
        ]
        planned = scoped.filter(state=TargetState.SCHEDULED).filter(
            Q(due_at__gt=start, due_at__lt=end)
            | Q(next_attempt_at__gt=start, next_attempt_at__lt=end)
        )
        for due_at, next_at, weight in planned.values_list(
            "due_at", "next_attempt_at", "limit_units"
        ):
            at = max(t for t in (due_at, next_at) if t is not None)
            moments.append((at, weight))
        worst = _busiest(sorted(moments), window)
        if worst is None or worst[1] <= rule.limit:
            continue
        first, count = worst
        values = {
            "network": caps.label,
            "allowance": describe_allowance(rule.limit, rule.window_seconds),
            "window": describe_window(rule.window_seconds),
            "count": count,
            "channel": channel.handle,
            "start": _local(first, channel),
        }
        if rule.scope == "account":
            message = _(
                "%(network)s allows %(allowance)s on one account; this plan "
                "would put %(count)s on %(channel)s in the %(window)s from %(start)s. "
                "The posts over the limit would wait, and be held if that made them late."
            )
        else:
            message = _(
                "%(network)s allows %(allowance)s across all its accounts in "
                "Minbar; this plan would make it %(count)s in the %(window)s from %(start)s. "
                "The posts over the limit would wait, and be held if that made them late."
            )
        warnings.append(message % values)
    return warnings


def _busiest(moments: list[tuple[datetime, int]], window: timedelta) -> tuple[datetime, int] | None:
    """The (start, total) of the window holding the most posts, over sorted moments."""
    best: tuple[datetime, int] | None = None
    total, left = 0, 0
    for at, weight in moments:
        total += weight
        while moments[left][0] <= at - window:
            total -= moments[left][1]
            left += 1
        if best is None or total > best[1]:
            best = (moments[left][0], total)
    return best
