"""Recovering what dead workers left behind, and settling unknown outcomes with a lookup.

Minbar never re-sends a post blindly. When it cannot know whether the network
took a post (a timeout after sending, an ambiguous 5xx, a worker that died
mid-call) the target is ``unconfirmed`` and the connector's ``lookup`` is asked,
by the target's idempotency key (and remote id, when known):

* found → published, with the remote id the network has;
* not found → scheduled again, **only if the lookup is authoritative** for this
  network at this age (see :data:`LOOKUP_AUTHORITY`); the same idempotency key
  is sent again, so even a post that appears late is not doubled where the
  network honours keys;
* not authoritative, or the lookup cannot be made → it stays unconfirmed with a
  clear message, ``next_attempt_at`` NULL, and people are told: a person checks
  the account and decides.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minbar.channels.models import Channel
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    TemporaryError,
)
from minbar.connectors.types import PublishResult
from minbar.publishing import dispatcher as d
from minbar.publishing.limits import describe_window
from minbar.publishing.models import Target, TargetState

logger = logging.getLogger("minbar.publishing")

# For how long after sending a "not found" from each connector's lookup proves the
# post is not on the network (seconds; inf = always, 0 = never). A connector may
# declare its own with a ``lookup_authoritative_seconds`` class attribute.
#
# * sandbox — posts are found by their idempotency key for as long as they exist;
# * bluesky — the record key is derived from the idempotency key, so the record
#   either exists at that key or was never written;
# * mastodon — the Idempotency-Key lookup works only while the instance remembers
#   the key: one hour (with a margin, see AUTHORITY_MARGIN).
# Any other network: never, until its connector says otherwise.
LOOKUP_AUTHORITY: dict[str, float] = {
    "sandbox": math.inf,
    "bluesky": math.inf,
    "mastodon": 3600.0,
}
# Clock differences and the time the network took to act on the request.
AUTHORITY_MARGIN = timedelta(minutes=5)
LOOKUP_RETRY = timedelta(seconds=60)


def lookup_authority(network: str) -> float:
    from minbar.channels.actions import connector_class

    try:
        declared = getattr(connector_class(network), "lookup_authoritative_seconds", None)
    except Exception:
        declared = None
    if declared is not None:
        return float(declared)
    return LOOKUP_AUTHORITY.get(network, 0.0)


def is_authoritative(channel: Channel, sent_at: datetime | None, moment: datetime) -> bool:
    authority = lookup_authority(channel.network)
    if authority == math.inf:
        return True
    if authority <= 0 or sent_at is None:
        return False
    return moment - sent_at < timedelta(seconds=authority) - AUTHORITY_MARGIN


def _network(channel: Channel) -> str:
    from minbar.channels.actions import connector_class

    try:
        return str(connector_class(channel.network).capabilities.label)
    except Exception:
        return channel.network


# -- the reaper --------------------------------------------------------------------------


def reap(moment: datetime | None = None) -> int:
    """``publishing`` targets whose worker is gone become ``unconfirmed``, to be looked up.

    Gone means: on this machine and its process has ended (after a short grace,
    while the network may still be finishing the request), or — anywhere — its
    claim is older than the lease.
    """
    moment = moment or d.now()
    lease, grace = d.lease(), d.dead_worker_grace()
    stale = Target.objects.filter(
        state=TargetState.PUBLISHING, claimed_at__lt=moment - min(grace, lease)
    ).values_list("pk", "claimed_by", "claimed_at")
    reaped = 0
    for pk, claimed_by, claimed_at in stale:
        if claimed_at is None:
            continue
        expired = claimed_at < moment - lease
        if not expired and not d.claimer_is_dead(claimed_by):
            continue
        if expired:
            why = _("no word from its worker for %(window)s") % {
                "window": describe_window(int(lease.total_seconds()))
            }
        else:
            why = _("its worker process ended")
        message = _(
            "Publishing stopped before it finished (%(why)s). Minbar will ask the network "
            "whether the post went out before doing anything else."
        ) % {"why": why}
        if d._transition(
            pk,
            from_states=(TargetState.PUBLISHING,),
            to_state=TargetState.UNCONFIRMED,
            kind="target.reaped",
            message=message,
            changes={**d._error_fields("worker_lost", message), "next_attempt_at": moment},
            data={"worker": claimed_by, "lease_expired": expired},
            claimed_by=claimed_by,
        ):
            reaped += 1
    if reaped:
        logger.warning("recovered %s target(s) from workers that stopped", reaped)
    return reaped


# -- reconciliation ----------------------------------------------------------------------


def reconcile(limit: int = 100, moment: datetime | None = None) -> int:
    """Look up unconfirmed targets whose time has come; returns how many were settled."""
    moment = moment or d.now()
    due = (
        Target.objects.filter(
            state=TargetState.UNCONFIRMED,
            next_attempt_at__isnull=False,
            next_attempt_at__lte=moment,
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    settled = 0
    for pk, at in list(due):
        # Take it (compare-and-set on the time): no other worker asks at the same time,
        # and a worker dying mid-lookup only delays the next try by the lease.
        taken = Target.objects.filter(
            pk=pk, state=TargetState.UNCONFIRMED, next_attempt_at=at
        ).update(next_attempt_at=moment + d.lease())
        if taken != 1:
            continue
        target = (
            Target.objects.select_related("post", "channel__workspace")
            .defer("channel__credentials_blob")  # decrypted when used, inside _settle
            .get(pk=pk)
        )
        notices: list[tuple[int, str]] = []
        try:
            if _settle(target, notices):
                settled += 1
        except Exception:
            logger.exception("could not reconcile target %s", pk)
            _later(target, d.now() + LOOKUP_RETRY, None)
        finally:
            for target_id, kind in notices:
                d._notify(target_id, kind)
    return settled


def _later(target: Target, at: datetime, error: ConnectorError | None) -> None:
    """Ask again at ``at``: the lookup itself failed for a passing reason. No event (no spam)."""
    changes: dict[str, Any] = {"next_attempt_at": at}
    if error is not None:
        changes["last_error_detail"] = f"{error.kind}: {error.message}"[:2000]
    Target.objects.filter(pk=target.pk, state=TargetState.UNCONFIRMED).update(**changes)


def _needs_person(target: Target, why: str, notices: list[tuple[int, str]]) -> bool:
    message = _(
        "Minbar cannot find out whether the post went out: %(why)s Check the account on "
        "the network: if the post is not there, publish it again."
    ) % {"why": why}
    moved = d._transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.UNCONFIRMED,),
        to_state=TargetState.UNCONFIRMED,
        kind="target.needs_check",
        message=message,
        changes={
            "next_attempt_at": None,
            "last_error_kind": "unconfirmed",
            "last_error_message": message,
        },
    )
    if moved:
        notices.append((target.pk, "unconfirmed"))
    return moved


def _settle(target: Target, notices: list[tuple[int, str]]) -> bool:
    """One lookup and what follows from it; True when the target left "checking"."""
    from minbar.channels.actions import note_failure

    channel = target.channel
    network = _network(channel)
    try:
        connector = d._connector(channel)
    except Exception as exc:
        # Unreadable credentials, a network Minbar no longer has: asking again will not help.
        logger.warning("cannot build a connector for channel %s: %s", channel.pk, exc)
        return _needs_person(
            target,
            _("Minbar cannot use the channel %(channel)s: %(reason)s")
            % {"channel": channel.handle, "reason": str(exc)},
            notices,
        )
    try:
        found = connector.lookup(idempotency_key=target.idempotency_key, remote_id=target.remote_id)
    except RateLimited as exc:
        note_failure(channel, exc)
        _later(target, exc.until, exc)
        return False
    except (TemporaryError, OutcomeUnknown) as exc:
        _later(target, d.now() + LOOKUP_RETRY, exc)
        return False
    except AuthExpired as exc:
        note_failure(channel, exc)
        return _needs_person(target, exc.message, notices)
    except ConnectorError as exc:
        # NotSupported (no lookup at all) or a refusal: no way to ask.
        return _needs_person(target, exc.message, notices)
    moment = d.now()
    authoritative = is_authoritative(channel, target.claimed_at, moment)
    if found is not None:
        result = PublishResult(
            remote_id=found.remote_id, url=found.url, published_at=found.created_at
        )
        message = _("The network has the post: it went out (once).")
        if authoritative and (target.effective_thread or target.effective_first_comment):
            # The post is out, but its thread parts or first comment may not be. The
            # key makes publishing again complete only what is missing.
            try:
                result = connector.publish(d.build_request(target))
            except Exception as exc:
                logger.warning("could not complete the thread of target %s: %s", target.pk, exc)
                message = _(
                    "The network has the post: it went out (once). Minbar could not check "
                    "its thread parts or first comment; look at them on the network."
                )
        return d._transition(
            target.pk,
            post_id=target.post_id,
            from_states=(TargetState.UNCONFIRMED,),
            to_state=TargetState.PUBLISHED,
            kind="target.reconciled",
            message=message,
            changes=d.published_changes(result, moment),
            data={"found": True, "remote_id": result.remote_id},
        )
    if not authoritative:
        authority = lookup_authority(channel.network)
        if authority > 0:
            why = _(
                "%(network)s can only be asked within %(window)s of sending a post, and that "
                "time has passed."
            ) % {"network": network, "window": describe_window(int(authority))}
        else:
            why = _("%(network)s gives Minbar no reliable way to look a post up.") % {
                "network": network
            }
        return _needs_person(target, why, notices)
    if target.attempts >= d.max_attempts():
        message = ngettext(
            "The network does not have the post, and Minbar gave up after %(attempts)s attempt.",
            "The network does not have the post, and Minbar gave up after %(attempts)s attempts.",
            target.attempts,
        ) % {"attempts": target.attempts}
        moved = d._transition(
            target.pk,
            post_id=target.post_id,
            from_states=(TargetState.UNCONFIRMED,),
            to_state=TargetState.FAILED,
            kind="target.failed",
            message=message,
            changes={
                "next_attempt_at": None,
                "last_error_kind": "not_found",
                "last_error_message": message,
            },
            data={"found": False},
        )
        if moved:
            notices.append((target.pk, "failed"))
        return moved
    return d._transition(
        target.pk,
        post_id=target.post_id,
        from_states=(TargetState.UNCONFIRMED,),
        to_state=TargetState.SCHEDULED,
        kind="target.reconciled",
        message=_("The network does not have the post, so Minbar will publish it again."),
        # claimed_by stays: a presumed-lost worker that does finish can still record it.
        changes={"next_attempt_at": None},
        data={"found": False},
    )
